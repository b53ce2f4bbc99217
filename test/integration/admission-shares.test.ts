import { GetCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import type { InvocationQueue } from '../../lib/bus/invocation-queue';
import type { RunningActivation } from '../../lib/invoker/dispatch-server';
import { SlotReconciler } from '../../lib/invoker/slot-reconciler';
import { SHARE_GRACE_MS, type ShareSettings } from '../../lib/store/admission-shares';
import { ThrottleCounters } from '../../lib/store/throttle-counters';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy';

// Admission shares on the embedded DynamoDB endpoint: a busy namespace is admitted from shares a
// controller reserved (one update per share, not per activation), never over its limits however
// many controllers share it, and what a share did not hand out comes back: at its end, or, from a
// controller that died holding it, through the reconciler, once.

const TABLE = configFromEnv({}).tables.coordination;
let endpoint: EmbeddedEndpoint;
let proxy: RecordingProxy;
let clients: AwsClients;
const lifted = { perMinute: 1_000_000, concurrent: 1_000_000 };
const updates = () => proxy.calls.filter((call) => call.operation === 'UpdateItem').length;
/** Shares that live until given back: the tests end them. */
const longShares: ShareSettings = { maxSize: 8, lifetimeMs: 60_000 };

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('SHARESTEST');
  proxy = await startRecordingProxy(endpoint.url);
  clients = createAwsClients({ endpoint: proxy.url, region: 'us-east-1', credentials: endpoint.credentials });
}, 60_000);

afterAll(async () => {
  clients?.dynamo.destroy();
  await proxy?.close();
  await endpoint?.stop();
});

const sharing = (shares: ShareSettings = longShares) => new ThrottleCounters(clients.dynamo, TABLE, { shares });

// No share is reserved in a minute's last seconds (see MINUTE_END_MARGIN_MS): each test starts away from them.
beforeEach(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 50));
});

/** Admits `a` (alone) and `b`, which reserves a share: the namespace is busy. */
async function reserveShare(counters: ThrottleCounters, namespace: string): Promise<void> {
  await counters.admit(namespace, 'a', lifted);
  await counters.admit(namespace, 'b', lifted);
}

/**
 * A store client that sends every call on, except that each update reserving a share goes
 * through `onShareUpdate` (which may fail it before or after sending it).
 */
function interceptingShareUpdates(onShareUpdate: (send: () => Promise<unknown>) => Promise<unknown>): AwsClients['dynamo'] {
  return {
    send: (command: { input: { UpdateExpression?: string } }) => {
      const send = () => clients.dynamo.send(command as never);
      return command.input.UpdateExpression?.includes('SET #share') ? onShareUpdate(send) : send();
    },
  } as unknown as AwsClients['dynamo'];
}

async function admissionItem(namespace: string): Promise<Record<string, unknown>> {
  const { Item } = await clients.dynamo.send(new GetCommand({ TableName: TABLE, Key: { pk: `throttle#${namespace}`, sk: 'admission' }, ConsistentRead: true }));
  return Item ?? {};
}

const shareAttributes = async (namespace: string) => Object.keys(await admissionItem(namespace)).filter((name) => name.startsWith('share_'));

function reconciler(counters: ThrottleCounters, direct: RunningActivation[]): SlotReconciler {
  const queue = { isEmpty: async () => true } as unknown as InvocationQueue;
  const activations = { progress: async () => undefined, claimsHeldBy: async () => [] };
  return new SlotReconciler({ queues: [queue], throttles: counters, activations, claimants: async () => [], directRuns: async () => direct }, pino({ level: 'silent' }), 0);
}

async function until(check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

test('a busy namespace costs one update per share, and its count holds what is reserved until the share is given back', async () => {
  const counters = sharing();
  // The first opens the namespace's minute window.
  await counters.admit('busy', 'a0', lifted);
  const before = updates();
  for (let i = 1; i < 20; i++) expect(await counters.admit('busy', `a${i}`, lifted)).toEqual({ admitted: true });
  // The second reserving 8 more, and one update for each 8 after.
  expect(updates() - before).toBe(3);
  expect(await counters.inFlight('busy')).toBe(28);
  expect(await shareAttributes('busy')).toHaveLength(1);
  await counters.releaseShares();
  expect(await counters.inFlight('busy')).toBe(20);
  expect(await admissionItem('busy')).toMatchObject({ minuteCount: 20 });
  expect(await shareAttributes('busy')).toEqual([]);
});

test('a lone request reserves nothing, and limits too small to share are admitted one update each', async () => {
  const counters = sharing();
  expect(await counters.admit('lone', 'a', lifted)).toEqual({ admitted: true });
  expect(await shareAttributes('lone')).toEqual([]);
  await counters.admit('defaults', 'd0', { perMinute: 60, concurrent: 30 });
  const before = updates();
  for (let i = 1; i < 6; i++) await counters.admit('defaults', `d${i}`, { perMinute: 60, concurrent: 30 });
  expect(updates() - before).toBe(5);
  expect(await counters.inFlight('defaults')).toBe(6);
  expect(await shareAttributes('defaults')).toEqual([]);
});

test('two sharing controllers racing never admit more than the concurrency limit, and give back what they did not hand out', async () => {
  const [a, b] = [sharing(), sharing()];
  const limits = { perMinute: 1_000_000, concurrent: 64 };
  let admitted = 0;
  let refused = 0;
  for (let wave = 0; wave < 10; wave++) {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).admit('race', `w${wave}-${i}`, limits)));
    admitted += results.filter((r) => r.admitted).length;
    for (const result of results.filter((r) => !r.admitted)) {
      refused++;
      expect(result).toMatchObject({ limit: 'concurrent' });
    }
    expect(await a.inFlight('race')).toBeLessThanOrEqual(64);
  }
  expect(admitted).toBeLessThanOrEqual(64);
  expect(refused).toBe(200 - admitted);
  // A share is at most a sixteenth of the limit: each controller holds at most 4 back.
  expect(admitted).toBeGreaterThanOrEqual(64 - 8);
  await Promise.all([a.releaseShares(), b.releaseShares()]);
  expect(await a.inFlight('race')).toBe(admitted);
});

test('a share ends after its lifetime and gives back what it did not hand out', async () => {
  const counters = sharing({ maxSize: 8, lifetimeMs: 200 });
  await reserveShare(counters, 'short');
  expect(await counters.inFlight('short')).toBe(10);
  expect(await until(async () => (await shareAttributes('short')).length === 0)).toBe(true);
  expect(await counters.inFlight('short')).toBe(2);
});

test('a share of one minute admits nothing in the next; its slots come back, not the new minute’s counts', async () => {
  const counters = sharing();
  const minute = Math.floor(Date.now() / 60_000);
  await reserveShare(counters, 'minutes');
  const before = updates();
  expect(await counters.admit('minutes', 'c', lifted, { now: (minute + 1) * 60_000 + 1 })).toEqual({ admitted: true });
  expect(updates() - before).toBeGreaterThanOrEqual(1);
  expect(await until(async () => (await shareAttributes('minutes')).length === 0)).toBe(true);
  expect(await admissionItem('minutes')).toMatchObject({ minute: minute + 1, minuteCount: 1, inflight: 3 });
});

test('the share of a controller that died is left alone while it may be in use, then removed by the reconciler, which counts it off once', async () => {
  const dead = sharing();
  await reserveShare(dead, 'orphaned');
  expect(await dead.inFlight('orphaned')).toBe(10);
  const observer = new ThrottleCounters(clients.dynamo, TABLE);
  const running = [
    { namespace: 'orphaned', activationId: 'a' },
    { namespace: 'orphaned', activationId: 'b' },
  ];
  const reconcile = reconciler(observer, running);
  // Its controller may still hand those 8 out: however often the reconciler runs, nothing changes.
  await reconcile.reconcile();
  await reconcile.reconcile();
  expect(await observer.inFlight('orphaned')).toBe(10);
  // Long past its end (and the clocks' grace), it is dead: two runs agreeing correct the count.
  const later = Date.now() + longShares.lifetimeMs + SHARE_GRACE_MS + 1000;
  await reconcile.reconcile(later);
  expect(await observer.inFlight('orphaned')).toBe(10);
  await reconcile.reconcile(later + 1);
  expect(await observer.inFlight('orphaned')).toBe(2);
  expect(await shareAttributes('orphaned')).toEqual([]);
  // Were that controller only frozen (a thawed Lambda), its late give-back changes nothing.
  await dead.releaseShares();
  expect(await observer.inFlight('orphaned')).toBe(2);
});

test('a live share hides at most its size: a leak beyond it is corrected while the share is in use', async () => {
  const counters = sharing();
  await reserveShare(counters, 'leak');
  // What three crashes between storing a record and counting it off leave.
  for (let i = 0; i < 3; i++) await counters.countBack('leak');
  expect(await counters.inFlight('leak')).toBe(13);
  const running = [
    { namespace: 'leak', activationId: 'a' },
    { namespace: 'leak', activationId: 'b' },
  ];
  const reconcile = reconciler(new ThrottleCounters(clients.dynamo, TABLE), running);
  await reconcile.reconcile();
  await reconcile.reconcile();
  expect(await counters.inFlight('leak')).toBe(10);
  await counters.releaseShares();
  expect(await counters.inFlight('leak')).toBe(2);
});

test('a share given back after another controller opened the next minute leaves that minute’s count alone', async () => {
  const counters = sharing();
  const minute = Math.floor(Date.now() / 60_000);
  await reserveShare(counters, 'late');
  await new ThrottleCounters(clients.dynamo, TABLE).admit('late', 'c', lifted, { now: (minute + 1) * 60_000 + 1 });
  await counters.releaseShares();
  expect(await admissionItem('late')).toMatchObject({ minute: minute + 1, minuteCount: 1, inflight: 3 });
});

test('a reservation whose answer is lost is given back whole: the admissions it was for fail, and nothing stays counted', async () => {
  let loseNextUpdate = false;
  const losing = interceptingShareUpdates(async (send) => {
    const answer = await send();
    if (loseNextUpdate) {
      loseNextUpdate = false;
      throw new Error('socket hang up');
    }
    return answer;
  });
  const counters = new ThrottleCounters(losing, TABLE, { shares: longShares });
  await counters.admit('lost', 'a', lifted);
  loseNextUpdate = true;
  await expect(counters.admit('lost', 'b', lifted)).rejects.toThrow('socket hang up');
  expect(await until(async () => (await shareAttributes('lost')).length === 0)).toBe(true);
  await counters.releaseShares();
  expect(await counters.inFlight('lost')).toBe(1);
  // And the next reservation works as before.
  await counters.admit('lost', 'c', lifted);
  expect(await counters.inFlight('lost')).toBe(2 + longShares.maxSize);
});

test('a store error fails only the admissions that needed the store; those taken from a share stay admitted', async () => {
  let failShareUpdatesIn = 0;
  const failing = interceptingShareUpdates((send) => (failShareUpdatesIn > 0 && --failShareUpdatesIn === 0 ? Promise.reject(new Error('throughput exceeded')) : send()));
  const counters = new ThrottleCounters(failing, TABLE, { shares: longShares });
  for (let i = 0; i < 10; i++) await counters.admit('hiccup', `a${i}`, lifted);
  expect(await counters.inFlight('hiccup')).toBe(10);
  // The first of twelve reserves a share; eight that waited for it are taken from it, and the
  // update for the other three fails.
  failShareUpdatesIn = 2;
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => counters.admit('hiccup', `b${i}`, lifted)));
  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  expect(admitted).toBe(9);
  await counters.releaseShares();
  expect(await counters.inFlight('hiccup')).toBe(10 + admitted);
});

test('non-blocking admissions from a share write their leases', async () => {
  const counters = sharing();
  for (let i = 0; i < 4; i++) await counters.admit('leased', `l${i}`, lifted, { lease: true });
  expect(await counters.slots('leased')).toBe(4);
  await counters.releaseShares();
  expect(await counters.inFlight('leased')).toBe(4);
});
