import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { ensureQueues, InvocationQueue } from '../../lib/bus/invocation-queue';
import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';

// The SQS side of the embedded endpoint, through @aws-sdk/client-sqs, with the semantics the
// invoker relies on: long polling, visibility timeout and redelivery, dead-lettering.

const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-bus-'));
let endpoint: ManagedProcess;
let clients: AwsClients;

async function startEndpoint(port = 0): Promise<void> {
  endpoint = await startProcess('endpoint', 'local/endpoint-main.ts', { ...process.env, SKYWHISK_DATA_DIR: dataDir, SKYWHISK_ENDPOINT_PORT: String(port) }, join(dataDir, 'logs'));
  clients = createAwsClients({
    endpoint: `http://127.0.0.1:${endpoint.ready.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function queuePair(name: string): Promise<{ main: InvocationQueue; dead: InvocationQueue }> {
  await ensureQueues(clients.sqs, { invoke: name, invokeDeadLetter: `${name}-dlq` }, { visibilityTimeoutS: 2, maxReceiveCount: 2 });
  return { main: new InvocationQueue(clients.sqs, name), dead: new InvocationQueue(clients.sqs, `${name}-dlq`) };
}

beforeAll(async () => {
  await startEndpoint();
});

afterAll(async () => {
  await stopProcess(endpoint, 5000);
  rmSync(dataDir, { recursive: true, force: true });
});

test('a long poll waits for a message sent after it started', async () => {
  const { main } = await queuePair('long-poll');
  let settled = false;
  const polling = main.receive(1, 10).then((messages) => {
    settled = true;
    return messages;
  });
  await new Promise((r) => setTimeout(r, 300));
  expect(settled).toBe(false);
  await main.sendRaw('late');
  const messages = await polling;
  expect(messages.map((m) => m.body)).toEqual(['late']);
});

test('an undeleted message comes back after the visibility timeout with a higher receive count', async () => {
  const { main } = await queuePair('visibility');
  await main.sendRaw('work');
  const [first] = await main.receive(1, 1);
  expect(first.receiveCount).toBe(1);
  expect(await main.receive(1, 0)).toEqual([]);
  const [again] = await main.receive(1, 5);
  expect(again.body).toBe('work');
  expect(again.receiveCount).toBe(2);
  await main.delete(again.receiptHandle);
  expect(await main.receive(1, 2)).toEqual([]);
});

test('a message received maxReceiveCount times without delete moves to the dead-letter queue', async () => {
  const { main, dead } = await queuePair('poison');
  await main.sendRaw('poison');
  expect((await main.receive(1, 5)).map((m) => m.body)).toEqual(['poison']);
  expect((await main.receive(1, 5)).map((m) => m.body)).toEqual(['poison']);
  expect(await main.receive(1, 2)).toEqual([]);
  expect((await dead.receive(1, 1)).map((m) => m.body)).toEqual(['poison']);
});

test('release makes a message visible again at once', async () => {
  const { main } = await queuePair('release');
  await main.sendRaw('returned');
  const [taken] = await main.receive(1, 1);
  await main.setVisibility(taken.receiptHandle, 0);
  expect((await main.receive(1, 0)).map((m) => m.body)).toEqual(['returned']);
});

test('queued messages survive a restart of the endpoint', async () => {
  const { main } = await queuePair('durable');
  await main.sendRaw('kept-1');
  await main.sendRaw('kept-2');
  const port = endpoint.ready.port!;
  await stopProcess(endpoint, 5000);
  await startEndpoint(port);
  const restarted = new InvocationQueue(clients.sqs, 'durable');
  const bodies: string[] = [];
  for (let i = 0; i < 5 && bodies.length < 2; i++) {
    for (const m of await restarted.receive(10, 1)) {
      bodies.push(m.body);
      await restarted.delete(m.receiptHandle);
    }
  }
  expect(bodies.sort()).toEqual(['kept-1', 'kept-2']);
});

describe('a SIGKILL of the endpoint', () => {
  async function killAndRestart(samePort = true): Promise<void> {
    const port = endpoint.ready.port!;
    endpoint.child.kill('SIGKILL');
    await endpoint.exited;
    await startEndpoint(samePort ? port : 0);
  }

  test('loses no message that was sent and brings back none that was deleted', async () => {
    const { main } = await queuePair('killed');
    for (const body of ['a', 'b', 'c', 'd']) await main.sendRaw(body);
    const taken = await main.receive(2, 1);
    expect(taken).toHaveLength(2);
    await main.delete(taken[0].receiptHandle);
    await killAndRestart();
    const after = new InvocationQueue(clients.sqs, 'killed');
    const bodies: string[] = [];
    // The undeleted one comes back once its visibility timeout (2 s) has passed.
    for (let i = 0; i < 8 && bodies.length < 3; i++) {
      for (const m of await after.receive(10, 1)) {
        bodies.push(m.body);
        await after.delete(m.receiptHandle);
      }
    }
    expect(bodies.sort()).toEqual(['a', 'b', 'c', 'd'].filter((b) => b !== taken[0].body).sort());
    expect(await after.receive(10, 0)).toEqual([]);
  });

  test('keeps an in-flight message hidden, and its receipt handle still deletes it', async () => {
    const { main } = await queuePair('inflight');
    await main.sendRaw('held');
    const [held] = await main.receive(1, 1);
    await main.setVisibility(held.receiptHandle, 60);
    await killAndRestart();
    const after = new InvocationQueue(clients.sqs, 'inflight');
    expect(await after.receive(1, 1)).toEqual([]);
    await after.delete(held.receiptHandle);
    await after.setVisibility(held.receiptHandle, 0).catch(() => undefined);
    expect(await after.receive(1, 1)).toEqual([]);
  });

  test('keeps what reached the dead-letter queue there, and receive counts', async () => {
    const { main } = await queuePair('redriven');
    await main.sendRaw('poison');
    await main.sendRaw('counted');
    const first = await main.receive(10, 1);
    expect(first.map((m) => m.body).sort()).toEqual(['counted', 'poison']);
    const counted = first.find((m) => m.body === 'counted')!;
    await main.setVisibility(counted.receiptHandle, 0);
    await killAndRestart();
    const again = new InvocationQueue(clients.sqs, 'redriven');
    const [second] = await again.receive(1, 1);
    expect(second).toMatchObject({ body: 'counted', receiveCount: 2 });
    await again.delete(second.receiptHandle);
    // poison: received once before the kill, once after; the third receive moves it.
    expect((await again.receive(1, 5)).map((m) => [m.body, m.receiveCount])).toEqual([['poison', 2]]);
    await killAndRestart();
    expect(await new InvocationQueue(clients.sqs, 'redriven').receive(1, 3)).toEqual([]);
    expect((await new InvocationQueue(clients.sqs, 'redriven-dlq').receive(1, 1)).map((m) => m.body)).toEqual(['poison']);
  });

  test('on another port, the queue URLs handed out before still name their queues', async () => {
    const { main } = await queuePair('moved');
    const oldUrl = await main.queueUrl();
    await main.sendRaw('moved-body');
    await killAndRestart(false);
    const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: oldUrl, WaitTimeSeconds: 1 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['moved-body']);
  });
});
