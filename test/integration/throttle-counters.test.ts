import pino from 'pino';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import type { InvocationQueue } from '../../lib/bus/invocation-queue';
import type { RunningActivation } from '../../lib/invoker/dispatch-server';
import { SlotReconciler } from '../../lib/invoker/slot-reconciler';
import type { HeldClaim } from '../../lib/store/activations';
import { SLOT_LEASE_MS, ThrottleCounters } from '../../lib/store/throttle-counters';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy';

// The shared counters behind the throttles, on the embedded DynamoDB endpoint: one conditional
// update admits an activation (minute window and in-flight count at once), admissions and
// count-offs sent together share one update, and the reconciler puts right what a crash left.

let endpoint: EmbeddedEndpoint;
let proxy: RecordingProxy;
let clients: AwsClients;
let counters: ThrottleCounters;
const limits = (perMinute: number, concurrent: number) => ({ perMinute, concurrent });
/** UpdateItem calls on the wire so far, whichever client path sent them. */
const updates = () => proxy.calls.filter((call) => call.operation === 'UpdateItem').length;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('THROTTLETEST');
  proxy = await startRecordingProxy(endpoint.url);
  clients = createAwsClients({ endpoint: proxy.url, region: 'us-east-1', credentials: endpoint.credentials });
  counters = new ThrottleCounters(clients.dynamo, configFromEnv({}).tables.coordination);
}, 60_000);

afterAll(async () => {
  clients?.dynamo.destroy();
  await proxy?.close();
  await endpoint?.stop();
});

/**
 * A reconciler that runs at every call, over the given claims; `progress` says how far each
 * activation got; `direct`: what live invokers run from direct dispatches (null: one could not be asked).
 */
function reconciler(options: { queueEmpty?: boolean; progress?: 'claimed' | 'recorded'; claims?: HeldClaim[]; direct?: RunningActivation[] | null } = {}): SlotReconciler {
  const queue = { isEmpty: async () => options.queueEmpty ?? true } as unknown as InvocationQueue;
  const activations = { progress: async () => options.progress, claimsHeldBy: async () => options.claims ?? [] };
  const directRuns = async () => (options.direct === null ? undefined : (options.direct ?? []));
  return new SlotReconciler({ queues: [queue], throttles: counters, activations, claimants: async () => ['invoker-a/1'], directRuns }, pino({ level: 'silent' }), 0);
}

function claimOf(namespace: string, activationId: string, admitted = true): HeldClaim {
  return { namespace, activationId, claimedAt: Date.now(), admitted, subject: namespace, action: { namespace, path: 'a', revision: '1' }, transactionId: 't', acceptedAt: Date.now() };
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
  for (let i = 0; i < 3; i++) expect(await counters.admit('pm', `a${i}`, limits(3, 100), { now: minute + i * 1000 })).toEqual({ admitted: true });
  expect(await counters.admit('pm', 'a3', limits(3, 100), { now: minute + 59_000 })).toEqual({ admitted: false, limit: 'perMinute', count: 4 });
  expect(await counters.admit('pm-other', 'b0', limits(3, 100), { now: minute })).toEqual({ admitted: true });
  expect(await counters.admit('pm', 'a4', limits(3, 100), { now: minute + 60_000 })).toEqual({ admitted: true });
  // A refused activation holds no slot.
  expect(await counters.inFlight('pm')).toBe(4);
});

test('slots are held up to the limit and given back by counting off; a lease is deleted once', async () => {
  expect(await counters.admit('s', 'a1', limits(1000, 2), { lease: true })).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a2', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a3', limits(1000, 2), { lease: true })).toEqual({ admitted: false, limit: 'concurrent', count: 2 });
  // Only the admitted activation that went through the queue has a lease.
  expect(await counters.slots('s')).toBe(1);
  await counters.countOff('s');
  expect(await counters.inFlight('s')).toBe(1);
  expect(await counters.deleteLease('s', 'a1')).toBe(true);
  expect(await counters.deleteLease('s', 'a1')).toBe(false);
  expect(await counters.admit('s', 'a3', limits(1000, 2))).toEqual({ admitted: true });
  expect(await counters.admit('s', 'a4', limits(1000, 2))).toEqual({ admitted: false, limit: 'concurrent', count: 2 });
});

test('a limit of 0 refuses even a namespace that never held a slot', async () => {
  expect(await counters.admit('fresh', 'a1', limits(1000, 0), { lease: true })).toEqual({ admitted: false, limit: 'concurrent', count: 0 });
  // Refused requests count in the minute, as OpenWhisk counts every request it checks.
  expect(await counters.admit('fresh', 'a1', limits(0, 10))).toEqual({ admitted: false, limit: 'perMinute', count: 2 });
  expect(await counters.inFlight('fresh')).toBe(0);
  expect(await counters.slots('fresh')).toBe(0);
});

test('admissions racing from many controllers never take more slots than the limit', async () => {
  const others = new ThrottleCounters(endpoint.clients.dynamo, configFromEnv({}).tables.coordination);
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? counters : others).admit('race', `r${i}`, limits(1000, 5))));
  expect(results.filter((r) => r.admitted)).toHaveLength(5);
  expect(await counters.inFlight('race')).toBe(5);
});

test('admissions and count-offs sent together share one update each', async () => {
  await counters.admit('busy', 'warm-up', limits(1_000_000, 1_000_000));
  const before = updates();
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => counters.admit('busy', `b${i}`, limits(1_000_000, 1_000_000))));
  expect(results.every((r) => r.admitted)).toBe(true);
  expect(updates() - before).toBeLessThanOrEqual(2);
  await Promise.all(Array.from({ length: 21 }, () => counters.countOff('busy')));
  expect(updates() - before).toBeLessThanOrEqual(4);
  expect(await counters.inFlight('busy')).toBe(0);
});

test('a lease past its deadline is deleted even while the queues hold messages, and the count follows what is in flight', async () => {
  const then = Date.now() - SLOT_LEASE_MS - 1000;
  await counters.admit('leaky', 'lost', limits(1000, 2), { lease: true, now: then });
  await counters.admit('leaky', 'live', limits(1000, 2), { lease: true });
  expect((await counters.admit('leaky', 'next', limits(1000, 2))).admitted).toBe(false);
  const reconcile = reconciler({ queueEmpty: false, progress: 'claimed' });
  expect(await reconcile.reconcile()).toBe(1);
  await reconcile.reconcile();
  expect(await counters.inFlight('leaky')).toBe(1);
  expect(await counters.admit('leaky', 'next', limits(1000, 2))).toEqual({ admitted: true });
});

test('a count a crash left off what is in flight is corrected once two runs see the same difference', async () => {
  // In flight: one activation with a lease, one claimed (its answer was lost, so its controller
  // wrote a claim in its invoker's name), one running from a direct dispatch (no claim at all).
  await counters.admit('drift', 'queued', limits(1000, 10), { lease: true });
  await counters.admit('drift', 'claimed', limits(1000, 10));
  await counters.admit('drift', 'direct', limits(1000, 10));
  const claims = [claimOf('drift', 'claimed'), claimOf('drift', 'a-component', false)];
  const direct = [{ namespace: 'drift', activationId: 'direct' }];
  // What a process that died between storing a record and counting it off leaves: one too many.
  await counters.countBack('drift');
  expect(await counters.inFlight('drift')).toBe(4);
  const reconcile = reconciler({ claims, direct, progress: 'claimed' });
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(4);
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(3);
  // And one counted off twice.
  await counters.countOff('drift');
  await reconcile.reconcile();
  await reconcile.reconcile();
  expect(await counters.inFlight('drift')).toBe(3);
});

test('an activation an invoker runs from a direct dispatch is in flight though nothing in the store says so; unasked, nothing is corrected', async () => {
  await counters.admit('direct-only', 'running', limits(1000, 10));
  const asked = reconciler({ direct: [{ namespace: 'direct-only', activationId: 'running' }] });
  await asked.reconcile();
  await asked.reconcile();
  expect(await counters.inFlight('direct-only')).toBe(1);
  // An invoker that could not be asked: what is in flight is unknown, however often it runs.
  const unasked = reconciler({ direct: null });
  await unasked.reconcile();
  await unasked.reconcile();
  expect(await counters.inFlight('direct-only')).toBe(1);
  // What a crash leaves (the run gone, the count not): corrected once the invokers are asked.
  const afterCrash = reconciler({ direct: [] });
  await afterCrash.reconcile();
  await afterCrash.reconcile();
  expect(await counters.inFlight('direct-only')).toBe(0);
});

test('a lease nothing holds (no claim, no record, every queue empty) is deleted and its activation counted off', async () => {
  await counters.admit('orphan', 'never-sent', limits(1000, 10), { lease: true });
  const busy = reconciler({ queueEmpty: false });
  expect(await busy.reconcile()).toBe(0);
  const idle = reconciler({ queueEmpty: true });
  expect(await idle.reconcile()).toBeGreaterThanOrEqual(1);
  expect(await counters.inFlight('orphan')).toBe(0);
  expect(await counters.slots('orphan')).toBe(0);
});
