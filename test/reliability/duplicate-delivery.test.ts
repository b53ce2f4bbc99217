import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { InvocationQueue } from '../../lib/bus/invocation-queue';
import { configFromEnv } from '../../lib/config';
import { newActivationId } from '../../lib/model/activation-id';
import type { ActivationMessage } from '../../lib/model/activation';
import { ActivationsRepository } from '../../lib/store/activations';
import { EntitiesRepository } from '../../lib/store/entities';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// SQS delivers at least once. The invoker's claim turns that into at most once: the same
// activation message delivered twice runs the action body once and yields one record.

let env: TestPlatform;
const channel = new SideChannel();
let queue: InvocationQueue;
let activations: ActivationsRepository;
let revision: string;

beforeAll(async () => {
  await channel.start();
  env = await startTestPlatform();
  await env.wsk().actions.create({ name: 'counted', action: channel.actionCode() });
  const config = configFromEnv({});
  queue = new InvocationQueue(env.clients.sqs, config.queues.invoke);
  activations = new ActivationsRepository(env.clients.dynamo, config.tables.activations, 1);
  revision = (await new EntitiesRepository(env.clients.dynamo, config.tables.entities).get('guest', 'actions', 'counted'))!.revision;
});

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

function message(): ActivationMessage {
  return {
    activationId: newActivationId(),
    transactionId: randomUUID(),
    namespace: 'guest',
    subject: 'guest',
    action: { namespace: 'guest', path: 'counted', revision },
    params: {},
    blocking: false,
    acceptedAt: Date.now(),
  };
}

async function queueIsEmpty(): Promise<boolean> {
  const { Attributes } = await env.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queue.queueUrl(),
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Attributes?.ApproximateNumberOfMessages === '0' && Attributes?.ApproximateNumberOfMessagesNotVisible === '0';
}

/** Waits until the record exists and every delivery has been consumed. */
async function settle(activationId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await activations.get('guest', activationId)) && (await queueIsEmpty())) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('activation did not settle');
}

async function recordsWithId(activationId: string): Promise<number> {
  const all = await activations.list('guest', { name: 'counted', limit: 200, skip: 0 });
  return all.filter((r) => r.activationId === activationId).length;
}

test('a message delivered again after its activation finished runs nothing and is dropped', async () => {
  const m = message();
  await queue.send(m);
  await settle(m.activationId);
  await queue.send(m);
  await new Promise((r) => setTimeout(r, 300));
  await settle(m.activationId);
  expect(channel.hits.get(m.activationId)).toBe(1);
  expect(await recordsWithId(m.activationId)).toBe(1);
  expect((await activations.get('guest', m.activationId))?.response.result).toEqual({ ran: true });
});

test('two deliveries of one message at the same time run the action once', async () => {
  const m = message();
  await Promise.all([queue.send(m), queue.send(m)]);
  await settle(m.activationId);
  // The losing delivery may sit invisible until the record exists; give it time to be seen and dropped.
  await new Promise((r) => setTimeout(r, 300));
  expect(channel.hits.get(m.activationId)).toBe(1);
  expect(await recordsWithId(m.activationId)).toBe(1);
});

test('when two invokers race to claim one activation in the table, exactly one wins', async () => {
  for (let i = 0; i < 20; i++) {
    const id = newActivationId();
    const wins = await Promise.all([activations.claim('guest', id, 'invoker-a/1'), activations.claim('guest', id, 'invoker-b/1')]);
    expect(wins.filter(Boolean)).toHaveLength(1);
  }
});
