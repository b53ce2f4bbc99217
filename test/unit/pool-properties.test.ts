import fc from 'fast-check';
import { ContainerPool, type Lease } from '../../lib/invoker/container-pool';
import { FakeFactory, nodeSpec, POOL_FAKE_TIMERS, settle, type FakeContainer } from '../helpers/fake-containers';

// Random sequences of acquire, release, pause, resume, failure and idle ticks against the pool,
// with the invariants checked after every step.

beforeEach(() => jest.useFakeTimers(POOL_FAKE_TIMERS));
afterEach(() => jest.useRealTimers());

const BUDGET_MB = 1024;
// Keys as the invoker makes them (invocation namespace | action | revision): status() shows the action.
const ACTIONS = [
  { key: 'ns|small|1', memoryMb: 128, concurrency: 1 },
  { key: 'ns|medium|1', memoryMb: 256, concurrency: 1 },
  { key: 'ns|shared|1', memoryMb: 256, concurrency: 3 },
  { key: 'ns|large|1', memoryMb: 512, concurrency: 1 },
  { key: 'ns|whole|1', memoryMb: 1024, concurrency: 1 },
];

type Step =
  | { do: 'acquire'; action: number }
  | { do: 'release' | 'releaseAgain'; lease: number; keep: boolean }
  | { do: 'tick'; ms: number }
  | { do: 'die'; container: number }
  | { do: 'failPauses' | 'failResumes'; on: boolean }
  | { do: 'failCreate' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ do: fc.constant('acquire' as const), action: fc.nat(ACTIONS.length - 1) }) },
  { weight: 4, arbitrary: fc.record({ do: fc.constant('release' as const), lease: fc.nat(20), keep: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('releaseAgain' as const), lease: fc.nat(20), keep: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ do: fc.constant('tick' as const), ms: fc.constantFrom(10, 150, 1000, 5000, 30_000) }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('die' as const), container: fc.nat(30) }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constantFrom('failPauses' as const, 'failResumes' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ do: fc.constant('failCreate' as const) }) },
);

interface Acquired {
  seq: number;
  action: (typeof ACTIONS)[number];
  outcome?: 'lease' | 'error';
  lease?: Lease;
  released?: boolean;
}

interface Timing {
  /** Durations (fake ms) of creates, pauses, resumes, warm-ups and destroys, used in turn; empty: all at once. */
  delays: number[];
  /** Shut down in the middle of whatever is under way, instead of after everything is given back. */
  shutdownMidway: boolean;
}

const AT_ONCE: Timing = { delays: [], shutdownMidway: false };

async function runScenario(steps: Step[], timing: Timing = AT_ONCE): Promise<void> {
  const factory = new FakeFactory();
  let nextDelay = 0;
  if (timing.delays.length > 0) factory.delay = () => timing.delays[nextDelay++ % timing.delays.length];
  // Operations settling in any order: the queue's order shows only when they settle at once.
  const checkOrder = timing.delays.length === 0;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const faults = { pauses: false, resumes: false };
  factory.configure = (c) => {
    c.pause = async () => {
      if (faults.pauses || c.exited) throw new Error('pause failed');
      c.paused = true;
    };
    c.resume = async () => {
      if (faults.resumes || c.exited) throw new Error('resume failed');
      c.paused = false;
    };
  };
  const pool = new ContainerPool(
    factory,
    {
      memoryBudgetMb: BUDGET_MB,
      pauseGraceMs: 100,
      idleTimeoutMs: 20_000,
      prewarmCheckIntervalMs: 5000,
      stemCells: [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 1, reactive: { minCount: 0, maxCount: 2, ttlMs: 10_000, threshold: 1, increment: 1 } }],
    },
    {},
  );
  pool.start();
  const acquired: Acquired[] = [];
  const held = () => acquired.filter((a) => a.outcome === 'lease' && !a.released);

  const check = (after: string) => {
    const status = pool.status();
    if (status.memoryUsedMb > BUDGET_MB) throw new Error(`${after}: ${status.memoryUsedMb} MB used of ${BUDGET_MB}`);
    const perContainer = new Map<FakeContainer, Acquired[]>();
    for (const a of held()) {
      const container = a.lease!.container as FakeContainer;
      if (container.destroyed) throw new Error(`${after}: a lease holds destroyed container ${container.id}`);
      if (container.paused) throw new Error(`${after}: a lease holds paused container ${container.id}`);
      perContainer.set(container, [...(perContainer.get(container) ?? []), a]);
    }
    for (const [container, leases] of perContainer) {
      if (new Set(leases.map((l) => l.action.key)).size > 1) throw new Error(`${after}: ${container.id} leased to two actions`);
      if (leases.length > leases[0].action.concurrency) throw new Error(`${after}: ${container.id} leased ${leases.length} times, concurrency ${leases[0].action.concurrency}`);
    }
    // Served in order: the acquires still waiting are always the latest ones.
    const firstWaiting = acquired.findIndex((a) => !a.outcome);
    if (checkOrder && firstWaiting >= 0 && acquired.slice(firstWaiting).some((a) => a.outcome)) {
      throw new Error(`${after}: acquire ${acquired.findLastIndex((a) => a.outcome)} was served before earlier acquire ${firstWaiting}`);
    }
    // Nothing waits that could start: the head fits in free memory plus what idle containers hold.
    if (checkOrder && firstWaiting >= 0) {
      const head = acquired[firstWaiting].action;
      const idle = status.containers.filter((c) => c.state === 'warm' || c.state === 'paused' || c.state === 'prewarmed' || c.state === 'pausing');
      const room = BUDGET_MB - status.memoryUsedMb + idle.reduce((sum, c) => sum + c.memoryMb, 0);
      if (room >= head.memoryMb) throw new Error(`${after}: acquire ${firstWaiting} (${head.memoryMb} MB) waits with ${room} MB it could have`);
    }
  };

  for (const [index, s] of steps.entries()) {
    if (s.do === 'acquire') {
      const action = ACTIONS[s.action];
      const entry: Acquired = { seq: acquired.length, action };
      acquired.push(entry);
      pool.acquire(action.key, nodeSpec(action.memoryMb), action.concurrency).then(
        (lease) => {
          if (entry.outcome) throw new Error(`acquire ${entry.seq} settled twice`);
          entry.outcome = 'lease';
          entry.lease = lease;
          lease.initialised();
        },
        () => (entry.outcome = 'error'),
      );
    } else if (s.do === 'release') {
      const leases = held();
      if (leases.length > 0) {
        const entry = leases[s.lease % leases.length];
        entry.released = true;
        entry.lease!.release(s.keep);
      }
    } else if (s.do === 'releaseAgain') {
      // A stray second release of a lease given back already: it must not touch whoever holds the container now.
      const done = acquired.filter((a) => a.released);
      if (done.length > 0) done[s.lease % done.length].lease!.release(s.keep);
    } else if (s.do === 'tick') {
      await jest.advanceTimersByTimeAsync(s.ms);
    } else if (s.do === 'die') {
      const live = factory.live();
      if (live.length > 0) live[s.container % live.length].die();
    } else if (s.do === 'failPauses') {
      faults.pauses = s.on;
    } else if (s.do === 'failResumes') {
      faults.resumes = s.on;
    } else {
      factory.failCreates++;
    }
    await settle();
    check(`after step ${index} (${JSON.stringify(s)})`);
  }

  const stopAndCheck = async () => {
    let leftAtStop: string[] | undefined;
    const stopped = pool.shutdown().then(() => (leftAtStop = factory.live().map((c) => c.id)));
    await jest.advanceTimersByTimeAsync(60_000);
    await stopped;
    if (leftAtStop!.length > 0) throw new Error(`shutdown returned with ${leftAtStop!.join(', ')} not destroyed`);
  };
  try {
    if (timing.shutdownMidway) {
      // Whatever is under way, a shutdown ends every acquire and leaves no container behind.
      await stopAndCheck();
    } else {
      // Every acquire ends in a lease or an error once everything is given back.
      faults.pauses = false;
      faults.resumes = false;
      factory.failCreates = 0;
      for (let round = 0; round < 50 && acquired.some((a) => !a.outcome || (a.outcome === 'lease' && !a.released)); round++) {
        for (const entry of held()) {
          entry.released = true;
          entry.lease!.release(true);
        }
        await jest.advanceTimersByTimeAsync(200);
        await settle();
        check(`while draining (round ${round})`);
      }
      await stopAndCheck();
    }
    await settle();
    const unfinished = acquired.filter((a) => !a.outcome);
    if (unfinished.length > 0) throw new Error(`${unfinished.length} acquires never ended (first: ${unfinished[0].seq})`);
    if (factory.live().length > 0) throw new Error(`shutdown left ${factory.live().map((c) => c.id).join(', ')}`);
    if (pool.status().memoryUsedMb !== 0) throw new Error(`shutdown left ${pool.status().memoryUsedMb} MB counted`);
    if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

test('any sequence of acquires, releases, pauses, resumes, failures and ticks keeps the pool within its invariants', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => runScenario(steps)),
    { numRuns: 300 },
  );
});

test('with creates, pauses, resumes and destroys settling in any order, and a shutdown at any moment, the invariants hold and nothing is left', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 1, maxLength: 60 }),
      fc.array(fc.constantFrom(0, 1, 5, 40, 300, 2000), { minLength: 1, maxLength: 16 }),
      fc.boolean(),
      (steps, delays, shutdownMidway) => runScenario(steps, { delays, shutdownMidway }),
    ),
    { numRuns: 300 },
  );
});
