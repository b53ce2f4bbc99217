import pino from 'pino';
import { configFromEnv } from '../../lib/config';
import type { InvocationQueue } from '../../lib/bus/invocation-queue';
import { SlotReconciler } from '../../lib/invoker/slot-reconciler';
import { SLOT_LEASE_MS, ThrottleCounters } from '../../lib/store/throttle-counters';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The shared counters behind the throttles, on the embedded DynamoDB endpoint: one conditional
// update admits an activation (minute window and in-flight count at once), a lease per
// activation makes giving back idempotent, and the reconciler puts right what a crash left.

let endpoint: EmbeddedEndpoint;
let counters: ThrottleCounters;
const limits = (perMinute: number, concurrent: number) => ({ perMinute, concurrent });

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('THROTTLETEST');
  counters = new ThrottleCounters(endpoint.clients.dynamo, configFromEnv({}).tables.coordination);
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
});

/** A reconciler that runs at every call, to which every activation is claimed (running). */
function reconciler(queueEmpty = true): SlotReconciler {
  const queue = { isEmpty: async () => queueEmpty } as unknown as InvocationQueue;
  const activations = { claimHolder: async () => ({ invoker: 'invoker-a/1', claimedAt: 0 }) };
  return new SlotReconciler({ queues: [queue], throttles: counters, activations }, pino({ level: 'silent' }), 0);
}

test('trigger fires are counted per namespace and per minute window', async () => {
  const minute = Date.UTC(2026, 10, 30, 12, 0, 0);
  expect(await counters.countInMinute('a', 'fires', minute)).toBe(1);
  expect(await counters.countInMinute('a', 'fires', minute + 59_000)).toBe(2);
  expect(await counters.countInMinute('b', 'fires', minute)).toBe(1);
  expect(await counters.countInMinute('a', 'fires', minute + 60_000)).toBe(1);
});

test('invocations per minute are refused over the limit, per namespace, and a new minute starts again', async () => {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  for (let i = 0; i < 3; i++) expect(await counters.admit('pm', `a${i}`, limits(3, 100), minute + i * 1000)).toEqual({ admitted: true });
  expect(await counters.admit('pm', 'a3', limits(3, 100), minute + 59_000)).toEqual({ admitted: false, limit: 'perMinute', count: 4 });
  expect(await counters.admit('pm-other', 'b0', limits(3, 100), minute)).toEqual({ admitted: true });
  expect(await counters.admit('pm', 'a4', limits(3, 100), minute + 60_000)).toEqual({ admitted: true });
  // A refused activation holds no slot.
  expect(await counters.inFlight('pm')).toBe(4);
  expect(await counters.slots('pm', minute + 60_000)).toBe(4);
});

test('slots are held per activation up to the limit, and giving one back twice (or one never taken) changes nothing', async () => {
  expect(await counters.admit('s', 'a1', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a2', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a3', limits(1000, 2))).toEqual({ admitted: false, limit: 'concurrent', count: 2 });
  await counters.releaseSlot('s', 'a1');
  await counters.releaseSlot('s', 'a1');
  await counters.releaseSlot('s', 'never-taken');
  expect(await counters.inFlight('s')).toBe(1);
  expect(await counters.admit('s', 'a3', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a4', limits(1000, 2))).toEqual({ admitted: false, limit: 'concurrent', count: 2 });
});

test('a limit of 0 refuses even a namespace that never held a slot', async () => {
  expect(await counters.admit('fresh', 'a1', limits(1000, 0))).toEqual({ admitted: false, limit: 'concurrent', count: 0 });
  // Refused requests count in the minute, as OpenWhisk counts every request it checks.
  expect(await counters.admit('fresh', 'a1', limits(0, 10))).toEqual({ admitted: false, limit: 'perMinute', count: 2 });
  expect(await counters.inFlight('fresh')).toBe(0);
  expect(await counters.slots('fresh')).toBe(0);
});

test('admissions racing from many controllers never take more slots than the limit', async () => {
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => counters.admit('race', `r${i}`, limits(1000, 5))));
  expect(results.filter((r) => r.admitted)).toHaveLength(5);
  expect(await counters.inFlight('race')).toBe(5);
  expect(await counters.slots('race')).toBe(5);
});

test('a leaked slot stops counting once its lease ends, even while the queues hold messages', async () => {
  const then = Date.now() - SLOT_LEASE_MS - 1000;
  await counters.admit('leaky', 'lost', limits(1000, 2), then);
  await counters.admit('leaky', 'live', limits(1000, 2));
  expect((await counters.admit('leaky', 'next', limits(1000, 2))).admitted).toBe(false);
  expect(await reconciler(false).reconcile()).toBe(1);
  expect(await counters.admit('leaky', 'next', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.inFlight('leaky')).toBe(2);
});

test('a count a crash left off its leases is corrected once two runs see the same difference', async () => {
  await counters.admit('drift', 'd1', limits(1000, 10));
  // What a controller that died between counting and writing the lease leaves: counted twice more.
  await counters.correctInFlight('drift', 1, 2);
  expect(await counters.inFlight('drift')).toBe(3);
  const reconcile = reconciler();
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(3);
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(1);
  // And one that died between deleting a lease and counting it off.
  await counters.correctInFlight('drift', 1, -1);
  await reconcile.reconcile();
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(1);
});
