import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { configFromEnv } from '../../lib/config';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// An invoker SIGKILLed in the middle of an activation: the restarted invoker sees the message
// again, finds the claim of its dead predecessor, and ends the activation in a record without
// running the action body a second time.

let env: TestPlatform;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  // A short visibility timeout so the orphaned message comes back within the test.
  env = await startTestPlatform({ SKYWHISK_QUEUE_VISIBILITY_S: '2', SKYWHISK_QUEUE_MAX_RECEIVE: '2' });
});

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

test('an activation interrupted by an invoker crash ends in one whisk error record and never reruns', () => withInvokerLog(env, async () => {
  const wsk = env.wsk();
  await wsk.actions.create({
    name: 'long',
    action: `async function main() {
      await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
      await new Promise((r) => setTimeout(r, 4000));
      return { finished: true };
    }`,
  });
  const { activationId } = await wsk.actions.invoke({ name: 'long' });
  for (let i = 0; i < 100 && !channel.hits.get(activationId); i++) await new Promise((r) => setTimeout(r, 50));
  expect(channel.hits.get(activationId)).toBe(1);

  env.platform.processes.invoker.child.kill('SIGKILL');
  await env.platform.processes.invoker.exited;
  await env.platform.restart('invoker');

  let record: { response: { status: string; result: { error: string } } } | undefined;
  for (let i = 0; i < 150 && !record; i++) {
    record = (await wsk.activations.get({ name: activationId }).catch(() => undefined)) as typeof record;
    if (!record) await new Promise((r) => setTimeout(r, 100));
  }
  expect(record?.response.status).toBe('whisk internal error');
  expect(record?.response.result.error).toMatch(/stopped before it finished/);
  // Long enough for a second run to have reported itself, had there been one.
  await new Promise((r) => setTimeout(r, 1000));
  expect(channel.hits.get(activationId)).toBe(1);
}));

test('an activation running longer than the visibility timeout keeps its message hidden and out of the dead-letter queue', async () => {
  const wsk = env.wsk();
  await wsk.actions.create({ name: 'marathon', action: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 5000)); }' });
  const record = (await wsk.actions.invoke({ name: 'marathon', blocking: true })) as { response: { result: unknown } };
  expect(record.response.result).toEqual({ done: true });
  const { QueueUrl } = await env.clients.sqs.send(new GetQueueUrlCommand({ QueueName: configFromEnv({}).queues.invokeDeadLetter }));
  const { Attributes } = await env.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
});
