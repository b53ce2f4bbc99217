import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { configFromEnv } from '../../lib/config';
import { newActivationId } from '../../lib/model/activation-id';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// Poison messages: what the invoker cannot read is left on the queue until SQS moves it to the
// dead-letter queue, where the invoker's drainer gives its activation id (when it names one) a
// whisk internal error record. The messages stay in the dead-letter queue for operators.

let env: TestPlatform;
let stopped = false;
const config = configFromEnv({});
const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-dead-letters-'));

beforeAll(async () => {
  // With a fleet name the invoker reports what it recorded as metrics (the operators' alarm reads them).
  env = await startTestPlatform({ SKYWHISK_QUEUE_VISIBILITY_S: '1', SKYWHISK_QUEUE_MAX_RECEIVE: '2', SKYWHISK_FLEET_METRICS: 'dead-letter-test' }, dataDir);
}, 120_000);

afterAll(async () => {
  if (!stopped) await env?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function queueUrl(name: string): Promise<string> {
  return (await env.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
}

async function depth(name: string): Promise<number> {
  const { Attributes } = await env.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
}

async function send(body: string): Promise<void> {
  await env.clients.sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(config.queues.invoke), MessageBody: body }));
}

test('a malformed message that names an activation ends in the dead-letter queue and in a whisk error record; one without an id only in the queue', () =>
  withInvokerLog(env, async () => {
    const withId = newActivationId();
    // Parses as JSON and names the activation, but is not an activation message (no action, no params).
    await send(JSON.stringify({ activationId: withId, namespace: 'guest', subject: 'guest', blocking: 'yes' }));
    await send('{"this is": not json');
    await send(JSON.stringify({ activationId: 'not-an-id', namespace: 'guest' }));

    let record: { response: { status: string; success: boolean; result: { error: string } }; namespace: string } | undefined;
    for (let i = 0; i < 300 && !record; i++) {
      record = (await env.wsk().activations.get({ name: withId }).catch(() => undefined)) as typeof record;
      if (!record) await new Promise((r) => setTimeout(r, 100));
    }
    expect(record?.namespace).toBe('guest');
    expect(record?.response).toMatchObject({ status: 'whisk internal error', success: false, result: { error: expect.stringMatching(/dead-letter queue; it was not run/) } });

    // All three are in the dead-letter queue (kept there, hidden while the drainer holds them), none on the queue.
    let dead = 0;
    for (let i = 0; i < 300 && dead < 3; i++) {
      dead = await depth(config.queues.invokeDeadLetter);
      if (dead < 3) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead).toBe(3);
    expect(await depth(config.queues.invoke)).toBe(0);
  }), 120_000);

test('a dead letter of an activation that already ran normally is dropped, and its record kept', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'fine', action: 'function main() { return { ok: true }; }' });
    const finished = (await wsk.actions.invoke({ name: 'fine', blocking: true })) as { activationId: string };
    const before = await depth(config.queues.invokeDeadLetter);
    // A stray copy of that activation's message reaches the dead-letter queue directly.
    await env.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl(config.queues.invokeDeadLetter),
        MessageBody: JSON.stringify({ activationId: finished.activationId, namespace: 'guest' }),
      }),
    );
    let now = before + 1;
    for (let i = 0; i < 300 && now > before; i++) {
      now = await depth(config.queues.invokeDeadLetter);
      if (now > before) await new Promise((r) => setTimeout(r, 100));
    }
    expect(now).toBe(before);
    const record = (await wsk.activations.get({ name: finished.activationId })) as { response: { result: unknown } };
    expect(record.response.result).toEqual({ ok: true });
  }), 120_000);

test('operators are told of each activation a dead letter ended, once: the invoker reports one (the dropped duplicate is none)', async () => {
  await env.stop();
  stopped = true;
  const reported = readFileSync(join(dataDir, 'logs', 'invoker.log'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => (JSON.parse(line) as { DeadLettersRecorded: number }).DeadLettersRecorded);
  expect(reported.reduce((sum, count) => sum + count, 0)).toBe(1);
}, 60_000);
