import { configFromEnv } from '../../lib/config';
import { ThrottleCounters } from '../../lib/store/throttle-counters';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The shared counters behind the throttles, on the embedded DynamoDB endpoint: minute windows,
// in-flight slots, and a leaked slot count that heals.

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

test('slots are taken up to the limit, given back, never below zero', async () => {
  const now = Date.now();
  expect(await counters.acquireSlot('s', 2, now)).toEqual({ admitted: true, count: 1 });
  expect(await counters.acquireSlot('s', 2, now)).toEqual({ admitted: true, count: 2 });
  expect(await counters.acquireSlot('s', 2, now)).toEqual({ admitted: false, count: 2 });
  await counters.releaseSlot('s', now);
  expect(await counters.acquireSlot('s', 2, now)).toEqual({ admitted: true, count: 2 });
  for (let i = 0; i < 4; i++) await counters.releaseSlot('s', now);
  expect((await counters.slots('s')).count).toBe(0);
});

test('a full slot count that has not moved for 15 minutes has leaked and is reset; a recent one is not', async () => {
  const then = Date.now();
  await counters.acquireSlot('leaky', 1, then);
  expect((await counters.acquireSlot('leaky', 1, then + 14 * 60_000)).admitted).toBe(false);
  expect(await counters.acquireSlot('leaky', 1, then + 16 * 60_000)).toEqual({ admitted: true, count: 1 });
});
