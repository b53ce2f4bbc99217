import { configFromEnv } from '../../lib/config';
import { newActivationId } from '../../lib/model/activation-id';
import { ThrottleCounters } from '../../lib/store/throttle-counters';
import { heldSlotIds, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// A controller that dies between taking an activation's throttle slot and sending its message
// leaves a slot nothing will give back (the client got no id). Invokers give such slots back
// once every queue is empty, instead of letting them count for their 15-minute lease; a slot
// whose message may still be somewhere is left alone.

jest.setTimeout(120_000);

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform({ SKYWHISK_INVOKER_SWEEP_MS: '500', SKYWHISK_SLOT_RECONCILE_AFTER_MS: '1500', SKYWHISK_STEM_CELLS: '' });
}, 120_000);

afterAll(() => env?.stop());

test('a slot no activation holds is given back once the queues are empty, not while a message is still in flight', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'long', action: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 6000)); }' });
    const { activationId: running } = await wsk.actions.invoke({ name: 'long' });
    // What the dead controller left: a slot for an id whose message was never sent.
    const orphan = newActivationId();
    await new ThrottleCounters(env.clients.dynamo, configFromEnv({}).tables.coordination).admit('guest', orphan, { perMinute: 1_000_000, concurrent: 1000 }, { lease: true });

    // Older than the reconcile age, but the running activation's message is still in flight: kept.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await heldSlotIds(env)).toEqual(expect.arrayContaining([orphan, running]));

    let held = await heldSlotIds(env);
    for (let i = 0; i < 60 && held.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      held = await heldSlotIds(env);
    }
    expect(held).toEqual([]);
    expect(((await wsk.activations.get({ name: running })) as { response: { result: unknown } }).response.result).toEqual({ done: true });
  }));
