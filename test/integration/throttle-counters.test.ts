import { configFromEnv } from '../../lib/config';
import { SLOT_LEASE_MS, ThrottleCounters } from '../../lib/store/throttle-counters';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The shared counters behind the throttles, on the embedded DynamoDB endpoint: minute windows,
// in-flight slots (one lease per activation), and leaked slots that stop counting.

let endpoint: EmbeddedEndpoint;
let counters: ThrottleCounters;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('THROTTLETEST');
  counters = new ThrottleCounters(endpoint.clients.dynamo, configFromEnv({}).tables.coordination);
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
});

test('counts are per namespace, per kind and per minute window', async () => {
  const minute = Date.UTC(2026, 10, 30, 12, 0, 0);
  expect(await counters.countInMinute('a', 'invocations', minute)).toBe(1);
  expect(await counters.countInMinute('a', 'invocations', minute + 59_000)).toBe(2);
  expect(await counters.countInMinute('a', 'fires', minute)).toBe(1);
  expect(await counters.countInMinute('b', 'invocations', minute)).toBe(1);
  expect(await counters.countInMinute('a', 'invocations', minute + 60_000)).toBe(1);
});

test('slots are held per activation up to the limit, and giving one back twice (or one never taken) changes nothing', async () => {
  const now = Date.now();
  expect(await counters.acquireSlot('s', 'a1', 2, now)).toEqual({ admitted: true, count: 1 });
  expect(await counters.acquireSlot('s', 'a2', 2, now)).toEqual({ admitted: true, count: 2 });
  expect(await counters.acquireSlot('s', 'a3', 2, now)).toEqual({ admitted: false, count: 2 });
  await counters.releaseSlot('s', 'a1');
  await counters.releaseSlot('s', 'a1');
  await counters.releaseSlot('s', 'never-taken');
  expect(await counters.slots('s', now)).toBe(1);
  expect(await counters.acquireSlot('s', 'a3', 2, now)).toEqual({ admitted: true, count: 2 });
  expect(await counters.acquireSlot('s', 'a4', 2, now)).toEqual({ admitted: false, count: 2 });
});

test('a limit of 0 refuses even a namespace that never held a slot', async () => {
  expect(await counters.acquireSlot('fresh', 'a1', 0)).toEqual({ admitted: false, count: 0 });
  expect(await counters.slots('fresh')).toBe(0);
});

test('a leaked slot stops counting once its lease ends; the others keep counting', async () => {
  const then = Date.now();
  await counters.acquireSlot('leaky', 'lost', 2, then);
  await counters.acquireSlot('leaky', 'live', 2, then + 10 * 60_000);
  expect((await counters.acquireSlot('leaky', 'next', 2, then + 14 * 60_000)).admitted).toBe(false);
  expect(await counters.acquireSlot('leaky', 'next', 2, then + SLOT_LEASE_MS + 1)).toEqual({ admitted: true, count: 2 });
});
