import { ContainerPool, type Lease, type PoolOptions } from '../../lib/invoker/container-pool';
import type { StemCellConfig } from '../../lib/invoker/pool-policy';
import { FakeFactory, nodeSpec, POOL_FAKE_TIMERS, settle, type FakeContainer } from '../helpers/fake-containers';

// The pool carrying out its policy over fake containers that fail on demand, with fake timers for
// pause grace, idle removal and prewarm checks (the Docker paths are in test/docker).

beforeEach(() => jest.useFakeTimers(POOL_FAKE_TIMERS));
afterEach(() => jest.useRealTimers());

const REACTIVE_NODE: StemCellConfig = { kind: 'nodejs:20', memoryMb: 256, initialCount: 1, reactive: { minCount: 1, maxCount: 3, ttlMs: 120_000, threshold: 2, increment: 1 } };

function poolWith(factory: FakeFactory, memoryBudgetMb: number, options: Partial<PoolOptions> = {}): ContainerPool {
  const pool = new ContainerPool(factory, { memoryBudgetMb, pauseGraceMs: 60_000, idleTimeoutMs: 600_000, stemCells: [], prewarmCheckIntervalMs: 60_000, ...options }, {});
  pool.start();
  return pool;
}

const fake = (lease: Lease) => lease.container as FakeContainer;

async function warmAndPaused(pool: ContainerPool, key: string): Promise<FakeContainer> {
  const lease = await pool.acquire(key, nodeSpec(256), 1);
  lease.initialised();
  lease.release(true);
  await jest.advanceTimersByTimeAsync(60_000);
  expect(fake(lease).paused).toBe(true);
  return fake(lease);
}

test('an action larger than the whole budget fails at once instead of waiting forever', async () => {
  const pool = poolWith(new FakeFactory(), 256);
  await expect(pool.acquire('big', nodeSpec(512), 1)).rejects.toThrow(/cannot run in a container pool of 256 MB/);
  await pool.shutdown();
});

test('a released container is reused for its key, and the least recently used idle one is evicted first', async () => {
  const factory = new FakeFactory();
  const pool = poolWith(factory, 512);
  const a = await pool.acquire('a', nodeSpec(256), 1);
  a.release(true);
  jest.advanceTimersByTime(10);
  const b = await pool.acquire('b', nodeSpec(256), 1);
  b.release(true);
  jest.advanceTimersByTime(10);
  const again = await pool.acquire('a', nodeSpec(256), 1);
  expect(again).toMatchObject({ start: 'warm', container: a.container });
  again.release(true);
  // Budget full: c needs room; b was used longest ago.
  const c = await pool.acquire('c', nodeSpec(256), 1);
  expect(c.start).toBe('cold');
  await settle();
  expect(factory.destroyed).toEqual([b.container.id]);
  expect(pool.status().counters.evicted).toBe(1);
  await pool.shutdown();
});

test('when every container is busy, an acquire waits until one is released', async () => {
  const pool = poolWith(new FakeFactory(), 256);
  const busy = await pool.acquire('a', nodeSpec(256), 1);
  let granted = false;
  const waiting = pool.acquire('b', nodeSpec(256), 1).then((lease) => {
    granted = true;
    return lease;
  });
  await settle();
  expect(granted).toBe(false);
  expect(pool.status()).toMatchObject({ queued: 1, counters: { queued: 1 } });
  busy.release(true);
  expect((await waiting).start).toBe('cold');
  await pool.shutdown();
});

describe('failures are handled in the state they happen in', () => {
  test('a failed resume runs the activation on a new container and the pool keeps serving', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 256);
    const paused = await warmAndPaused(pool, 'a');
    paused.failResume = true;
    // Before: unpause threw out of acquire and left the budget counted as in use, so the next acquire waited forever.
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    expect(lease.start).toBe('cold');
    expect(lease.container).not.toBe(paused);
    await settle();
    expect(paused.destroyed).toBe(true);
    expect(pool.status()).toMatchObject({ memoryUsedMb: 256, queued: 0, counters: { failedResumes: 1, resumed: 0 } });
    lease.release(true);
    const next = await pool.acquire('b', nodeSpec(256), 1);
    expect(next.start).toBe('cold');
    await pool.shutdown();
  });

  test('a pause that fails while an activation arrives never hands out the destroyed container', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 512);
    const first = await pool.acquire('a', nodeSpec(256), 1);
    let finishPause: (ok: boolean) => void = () => undefined;
    const pausing = fake(first);
    pausing.pause = () => new Promise<void>((resolve, reject) => (finishPause = (ok) => (ok ? resolve() : reject(new Error('pause failed')))));
    first.release(true);
    await jest.advanceTimersByTimeAsync(60_000);
    // An activation for the same action arrives mid-pause, then the pause fails.
    const arriving = pool.acquire('a', nodeSpec(256), 1);
    finishPause(false);
    const lease = await arriving;
    expect(lease.container).not.toBe(pausing);
    expect(fake(lease).destroyed).toBe(false);
    await settle();
    expect(pausing.destroyed).toBe(true);
    expect(pool.status().counters).toMatchObject({ failedPauses: 1, failedResumes: 0, cold: 2 });
    await pool.shutdown();
  });

  test('a pause that fails with nobody waiting removes the container and frees its memory', async () => {
    const factory = new FakeFactory();
    factory.configure = (c) => (c.failPause = true);
    const pool = poolWith(factory, 256);
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    lease.release(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake(lease).destroyed).toBe(true);
    expect(pool.status().memoryUsedMb).toBe(0);
    await pool.shutdown();
  });

  test('an activation waiting on a resume that succeeds gets the same container, thawed', async () => {
    const pool = poolWith(new FakeFactory(), 256);
    const paused = await warmAndPaused(pool, 'a');
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    expect(lease).toMatchObject({ start: 'warm', container: paused });
    expect(paused.paused).toBe(false);
    expect(pool.status().counters.resumed).toBe(1);
    await pool.shutdown();
  });

  test('a container whose /init failed is destroyed and its memory given back', async () => {
    const pool = poolWith(new FakeFactory(), 256);
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    // execute() reports no success, so initialised() is never called; the invoker releases without keeping.
    lease.release(false);
    await settle();
    expect(fake(lease).destroyed).toBe(true);
    const next = await pool.acquire('a', nodeSpec(256), 1);
    expect(next.start).toBe('cold');
    await pool.shutdown();
  });

  test('a container that dies while warm is removed and never leased', async () => {
    const pool = poolWith(new FakeFactory(), 512);
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    lease.release(true);
    fake(lease).die();
    await settle();
    expect(pool.status()).toMatchObject({ memoryUsedMb: 0, counters: { died: 1 } });
    const next = await pool.acquire('a', nodeSpec(256), 1);
    expect(next.container).not.toBe(lease.container);
    expect(next.start).toBe('cold');
    await pool.shutdown();
  });

  test('a container that dies while running is removed when its activation gives it back, even asked to keep it', async () => {
    const pool = poolWith(new FakeFactory(), 512);
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    fake(lease).die();
    expect(fake(lease).destroyed).toBe(false);
    lease.release(true);
    await settle();
    expect(fake(lease).destroyed).toBe(true);
    await pool.shutdown();
  });

  test('a failed create is an error for that activation only, and gives its memory back', async () => {
    const factory = new FakeFactory();
    factory.failCreates = 1;
    const pool = poolWith(factory, 256);
    await expect(pool.acquire('a', nodeSpec(256), 1)).rejects.toThrow(/docker create failed/);
    expect(pool.status().memoryUsedMb).toBe(0);
    expect((await pool.acquire('a', nodeSpec(256), 1)).start).toBe('cold');
    await pool.shutdown();
  });
});

describe('nothing waits that could run', () => {
  test('an activation waiting while idle containers are pausing runs at once, in the memory of one of them', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 512);
    const pauses: Array<() => void> = [];
    factory.configure = (c) => (c.pause = () => new Promise<void>((resolve) => pauses.push(resolve)));
    for (const key of ['a', 'b']) (await pool.acquire(key, nodeSpec(256), 1)).release(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(pool.status().states.pausing).toBe(2);
    // Before: pausing containers were no victims and a finished pause placed nothing, so c waited for an unrelated event.
    let c: Lease | undefined;
    void pool.acquire('c', nodeSpec(256), 1).then((l) => (c = l));
    await settle();
    pauses[0]();
    await settle();
    expect(c?.start).toBe('cold');
    pauses[1]();
    await pool.shutdown();
  });

  test('a stem cell that fails to start gives its memory to the activation waiting for it', async () => {
    const factory = new FakeFactory();
    let failWarmUp: (error: Error) => void = () => undefined;
    factory.configure = (c) => (c.warmUp = () => new Promise<boolean>((_, reject) => (failWarmUp = reject)));
    const pool = poolWith(factory, 512, { stemCells: [{ kind: 'python:3.11', memoryMb: 256, initialCount: 1 }] });
    await settle();
    const a = await pool.acquire('a', nodeSpec(256), 1);
    let b: Lease | undefined;
    void pool.acquire('b', nodeSpec(256), 1).then((l) => (b = l));
    await settle();
    expect(b).toBeUndefined();
    failWarmUp(new Error('warm-up failed'));
    await settle();
    expect(b?.start).toBe('cold');
    a.release(true);
    await pool.shutdown();
  });

  test('stem cells that keep dying right after they start are not restarted forever', async () => {
    const factory = new FakeFactory();
    factory.configure = (c) => void Promise.resolve().then(() => Promise.resolve()).then(() => c.die());
    const errors: string[] = [];
    const pool = new ContainerPool(factory, { memoryBudgetMb: 1024, pauseGraceMs: 60_000, idleTimeoutMs: 600_000, stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1 }] }, {}, (_e, what) => errors.push(what));
    pool.start();
    for (let i = 0; i < 20; i++) await settle();
    expect(pool.status().counters.stemCellsStarted).toBe(5);
    expect(errors.filter((w) => w === 'keep a stem cell').length).toBeGreaterThanOrEqual(1);
    await pool.shutdown();
  });
});

describe('queueing', () => {
  test('a large action queued behind small ones is served before small ones that arrive after it', async () => {
    const pool = poolWith(new FakeFactory(), 512);
    const small1 = await pool.acquire('s1', nodeSpec(256), 1);
    const small2 = await pool.acquire('s2', nodeSpec(256), 1);
    const order: string[] = [];
    const large = pool.acquire('large', nodeSpec(512), 1).then((l) => (order.push('large'), l));
    const later = pool.acquire('s3', nodeSpec(256), 1).then((l) => (order.push('s3'), l));
    // Before: the freed 256 MB went to s3, and with a steady stream of small ones the large one never ran.
    small1.release(false);
    await settle();
    expect(order).toEqual([]);
    small2.release(false);
    const largeLease = await large;
    expect(order).toEqual(['large']);
    largeLease.release(false);
    await later;
    expect(order).toEqual(['large', 's3']);
    await pool.shutdown();
  });

  test('activations share a container up to its concurrency; one failing there removes it after the last one', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 256);
    const first = await pool.acquire('a', nodeSpec(256), 2);
    first.initialised();
    const second = await pool.acquire('a', nodeSpec(256), 2);
    expect(second).toMatchObject({ start: 'warm', container: first.container });
    let third: Lease | undefined;
    const waiting = pool.acquire('a', nodeSpec(256), 2).then((l) => (third = l));
    await settle();
    expect(third).toBeUndefined();
    // The first fails (a developer error): the second still runs there, so it stays until the second is done.
    first.release(false);
    await settle();
    expect(fake(first).destroyed).toBe(false);
    expect(third).toBeUndefined();
    second.release(true);
    await waiting;
    expect(fake(first).destroyed).toBe(true);
    expect(third!.container).not.toBe(first.container);
    await pool.shutdown();
  });

  test('a second release of a lease changes nothing for the activation now holding the container', async () => {
    const pool = poolWith(new FakeFactory(), 256);
    const first = await pool.acquire('a', nodeSpec(256), 1);
    first.release(true);
    const second = await pool.acquire('a', nodeSpec(256), 1);
    expect(second.container).toBe(first.container);
    first.release(false); // stray: the first activation released already
    second.release(true);
    await settle();
    expect(fake(second).destroyed).toBe(false);
    expect(pool.status().states.warm).toBe(1);
    await pool.shutdown();
  });

  test('shutting down fails every waiting acquire', async () => {
    const pool = poolWith(new FakeFactory(), 256);
    await pool.acquire('a', nodeSpec(256), 1);
    const waiting = pool.acquire('b', nodeSpec(256), 1);
    await pool.shutdown();
    await expect(waiting).rejects.toThrow(/shut down/);
  });
});

describe('stem cells', () => {
  test('a stem cell is warmed up before it is offered, and one whose warm-up fails is never offered', async () => {
    const factory = new FakeFactory();
    factory.configure = (c) => (c.failWarmUp = factory.made.length === 0);
    const pool = poolWith(factory, 1024, { stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1 }] });
    await settle();
    // The first failed its warm-up and went; its replacement was warmed up and is offered.
    expect(factory.made[0]).toMatchObject({ warmUps: 1, destroyed: true });
    expect(factory.made[1]).toMatchObject({ warmUps: 1, destroyed: false });
    const lease = await pool.acquire('a', nodeSpec(256), 1);
    expect(lease).toMatchObject({ start: 'prewarmed', container: factory.made[1] });
    await pool.shutdown();
  });

  test('a stem cell that dies is removed and replaced', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 1024, { stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1 }] });
    await settle();
    factory.made[0].die();
    await settle();
    expect(pool.status()).toMatchObject({ states: { prewarmed: 1 }, counters: { died: 1 } });
    expect(factory.made).toHaveLength(2);
    await pool.shutdown();
  });

  test('a factory that cannot start stem cells is tried five times, then again only at the next check', async () => {
    const factory = new FakeFactory();
    factory.failCreates = 100;
    const pool = poolWith(factory, 1024, { stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1 }] });
    for (let i = 0; i < 10; i++) {
      await pool.acquire(`k${i}`, nodeSpec(128), 1).catch(() => undefined);
      await settle();
    }
    const afterBurst = pool.status().counters.stemCellsStarted;
    expect(afterBurst).toBe(5);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(pool.status().counters.stemCellsStarted).toBeGreaterThan(afterBurst);
    await pool.shutdown();
  });

  test('reactive: cold starts beyond the threshold add stem cells at the next check, up to the maximum', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 4096, { stemCells: [REACTIVE_NODE] });
    await settle();
    expect(pool.status().states.prewarmed).toBe(1);
    // Five activations at once of different actions: one takes the stem cell, four start cold.
    const leases = await Promise.all([0, 1, 2, 3, 4].map((i) => pool.acquire(`burst${i}`, nodeSpec(256), 1)));
    expect(leases.filter((l) => l.start === 'cold')).toHaveLength(4);
    await settle();
    // Taken cells are replaced up to the target (1) at once; growth waits for the check.
    expect(pool.status().stemCellTargets['nodejs:20:256']).toBe(1);
    await jest.advanceTimersByTimeAsync(60_000);
    // 4 cold starts / threshold 2 * increment 1 = 2 more, capped at 3.
    expect(pool.status()).toMatchObject({ stemCellTargets: { 'nodejs:20:256': 3 }, states: { prewarmed: 3 } });
    await pool.shutdown();
  });

  test('reactive: stem cells unused for the ttl are retired down to the minimum', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 4096, { stemCells: [{ ...REACTIVE_NODE, initialCount: 3 }] });
    await settle();
    expect(pool.status().states.prewarmed).toBe(3);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(pool.status().states.prewarmed).toBe(3);
    await jest.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(pool.status()).toMatchObject({ stemCellTargets: { 'nodejs:20:256': 1 }, states: { prewarmed: 1 }, counters: { stemCellsRetired: 2 } });
    await pool.shutdown();
  });

  test('static stem cells are always refilled to their count and never expire', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 4096, { stemCells: [{ kind: 'python:3.11', memoryMb: 256, initialCount: 2 }] });
    await settle();
    const lease = await pool.acquire('py', { ...nodeSpec(256), kind: 'python:3.11' }, 1);
    expect(lease.start).toBe('prewarmed');
    // Not replaced while the activation that took it starts up (they would compete for the CPU)...
    await settle();
    expect(pool.status().states.prewarmed).toBe(1);
    // ...but once it gives its container back,
    lease.release(true);
    await settle();
    expect(pool.status().states.prewarmed).toBe(2);
    // or a moment after it was taken, when its activation runs long.
    const long = await pool.acquire('py2', { ...nodeSpec(256), kind: 'python:3.11' }, 1);
    expect(long.start).toBe('prewarmed');
    await settle();
    expect(pool.status().states.prewarmed).toBe(1);
    await jest.advanceTimersByTimeAsync(250);
    await settle();
    expect(pool.status().states.prewarmed).toBe(2);
    await jest.advanceTimersByTimeAsync(600_000);
    expect(pool.status().states.prewarmed).toBe(2);
    await pool.shutdown();
  });

  test('stem cells never take memory from activations waiting for it', async () => {
    const factory = new FakeFactory();
    const pool = poolWith(factory, 768, { stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1 }] });
    await settle();
    const a = await pool.acquire('a', nodeSpec(256), 1); // takes the stem cell
    await pool.acquire('b', nodeSpec(256), 1); // cold: 256 MB stay free
    let large: Lease | undefined;
    void pool.acquire('large', nodeSpec(512), 1).then((l) => (large = l));
    // A check comes while the large one waits: the free 256 MB are not given to a stem cell...
    await jest.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(pool.status().counters.stemCellsStarted).toBe(1);
    // ...so when a is done, the large one has its 512 MB.
    a.release(false);
    await settle();
    expect(large?.start).toBe('cold');
    await pool.shutdown();
  });
});

test('the pool reports every state it has, and how many containers it removed', async () => {
  const factory = new FakeFactory();
  const pool = poolWith(factory, 1024);
  const lease = await pool.acquire('ns|guest/a|1', nodeSpec(256), 1);
  lease.release(false);
  await settle();
  const status = pool.status();
  expect(Object.keys(status.states).sort()).toEqual(['initialising', 'paused', 'pausing', 'prewarmed', 'removing', 'resuming', 'running', 'starting', 'warm']);
  expect(status.counters.removed).toBe(1);
  await pool.shutdown();
});
