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
