import type { ActionContainer } from '../../lib/invoker/container';
import { ContainerLife, IllegalTransitionError } from '../../lib/invoker/container-life';
import { pickVictims, pickWarm, place, planStemCells, type ContainerView, type StemCellConfig } from '../../lib/invoker/pool-policy';
import { parsePrewarmCheckInterval, parseStemCells } from '../../lib/invoker/stem-cell-settings';

// The pool's pure decisions and the container state machine, each on its own.

const view = (id: number, state: ContainerView['state'], extra: Partial<ContainerView> = {}): ContainerView => ({
  id,
  state,
  kind: 'nodejs:20',
  memoryMb: 256,
  active: 0,
  maxConcurrency: 1,
  lastUsed: id,
  ...extra,
});

describe('placing an activation', () => {
  test.each([
    ['a running container below its concurrency comes before an idle warm one', [view(1, 'warm', { key: 'a', lastUsed: 9 }), view(2, 'running', { key: 'a', active: 1, maxConcurrency: 2 })], 2, 2],
    ['the most recently used warm container is picked', [view(1, 'warm', { key: 'a', lastUsed: 1 }), view(2, 'warm', { key: 'a', lastUsed: 5 })], 1, 2],
    ['a warm container comes before a paused one', [view(1, 'paused', { key: 'a', lastUsed: 9 }), view(2, 'warm', { key: 'a', lastUsed: 1 })], 1, 2],
    ['a paused container is used rather than starting another', [view(1, 'paused', { key: 'a' })], 1, 1],
    ['a full container is not picked', [view(1, 'running', { key: 'a', active: 1 })], 1, undefined],
    ['a container of another action is not picked', [view(1, 'warm', { key: 'b' })], 1, undefined],
    ['a container doomed by a failure is not picked', [view(1, 'running', { key: 'a', active: 1, maxConcurrency: 3, doomed: true })], 3, undefined],
  ])('%s', (_name, containers, concurrency, expected) => {
    expect(pickWarm(containers, 'a', concurrency)?.id).toBe(expected);
  });

  test('eviction removes the least recently used idle containers, just enough of them', () => {
    const containers = [view(1, 'warm', { key: 'x', lastUsed: 5 }), view(2, 'paused', { key: 'y', lastUsed: 1 }), view(3, 'prewarmed', { lastUsed: 3 }), view(4, 'running', { key: 'z', active: 1 })];
    expect(pickVictims(containers, 512, 1024)).toEqual([2, 3]);
  });

  test('when even every idle container would not make room, nothing is evicted and the activation waits', () => {
    const containers = [view(1, 'warm', { key: 'x' }), view(2, 'running', { key: 'z', active: 1, memoryMb: 768 })];
    expect(pickVictims(containers, 512, 1024)).toBeUndefined();
    expect(place({ key: 'a', kind: 'nodejs:20', memoryMb: 512, maxConcurrency: 1 }, containers, 1024)).toEqual({ how: 'wait' });
  });

  test('a stem cell of the same kind and memory is used before a cold start; another size is not', () => {
    const containers = [view(1, 'prewarmed', { memoryMb: 512 }), view(2, 'prewarmed', { since: 1 })];
    expect(place({ key: 'a', kind: 'nodejs:20', memoryMb: 256, maxConcurrency: 1 }, containers, 4096)).toEqual({ how: 'prewarmed', id: 2 });
    expect(place({ key: 'a', kind: 'python:3.11', memoryMb: 256, maxConcurrency: 1 }, containers, 4096)).toEqual({ how: 'cold', evict: [] });
  });
});

describe('planning stem cells', () => {
  const reactive: StemCellConfig = { kind: 'nodejs:20', memoryMb: 256, initialCount: 2, reactive: { minCount: 1, maxCount: 4, ttlMs: 120_000, threshold: 2, increment: 1 } };
  const plan = (containers: ContainerView[], coldStarts: number, check: boolean, targets = [2], extra = {}) =>
    planStemCells({ configs: [reactive], targets, containers, coldStarts: [coldStarts], now: 200_000, check, budgetMb: 4096, queueWaiting: false, ...extra });

  test.each([
    ['taken cells are replaced up to the target between checks', [view(1, 'prewarmed', { since: 199_000 })], 5, false, [2], { targets: [2], start: [0], retire: [] }],
    ['cold starts grow the target by increment per threshold', [view(1, 'prewarmed', { since: 199_000 }), view(2, 'prewarmed', { since: 199_000 })], 5, true, [2], { targets: [4], start: [0, 0], retire: [] }],
    ['growth stops at the maximum', [], 100, true, [2], { targets: [4], start: [0, 0, 0, 0], retire: [] }],
    ['cold starts below the threshold change nothing', [view(1, 'prewarmed', { since: 199_000 }), view(2, 'prewarmed', { since: 199_000 })], 1, true, [2], { targets: [2], start: [], retire: [] }],
    [
      'cells unused for the ttl retire down to the minimum',
      [view(1, 'prewarmed', { since: 10_000 }), view(2, 'prewarmed', { since: 20_000 }), view(3, 'prewarmed', { since: 30_000 })],
      0,
      true,
      [3],
      { targets: [1], start: [], retire: [1, 2] },
    ],
    ['cells used recently are kept', [view(1, 'prewarmed', { since: 150_000 }), view(2, 'prewarmed', { since: 150_000 })], 0, true, [2], { targets: [2], start: [], retire: [] }],
  ])('%s', (_name, containers, coldStarts, check, targets, expected) => {
    expect(plan(containers, coldStarts, check, targets)).toEqual(expected);
  });

  test('no cell starts while an activation waits for memory, or where memory is short', () => {
    expect(plan([], 0, false, [2], { queueWaiting: true }).start).toEqual([]);
    expect(plan([view(9, 'running', { key: 'a', memoryMb: 3900 })], 0, false).start).toEqual([]);
  });
});

describe('a container life', () => {
  const container = { id: 'c1' } as ActionContainer;
  const action = { key: 'a', maxConcurrency: 1 };

  test.each([
    ['a stem cell cannot become warm without an activation', (life: ContainerLife) => life.prewarmed(container, 0), { name: 'warm', container, action, idleSince: 0 }],
    ['a removed container cannot run again', (life: ContainerLife) => (life.beginRemoval(), life.removed()), { name: 'running', container, action, active: 1 }],
    ['a paused container cannot run before it is resumed', (life: ContainerLife) => (life.initialising(container, action), life.initialised(), life.release(true, 0), life.transition({ name: 'pausing', container, action, idleSince: 0, done: Promise.resolve(true) }), life.transition({ name: 'paused', container, action, idleSince: 0 })), { name: 'running', container, action, active: 1 }],
  ] as const)('%s', (_name, setUp, next) => {
    const life = new ContainerLife(1, 'nodejs:20', 256, undefined, 0);
    setUp(life);
    expect(() => life.transition(next as never)).toThrow(IllegalTransitionError);
  });

  test('a release counts activations down, and only the last one makes the container warm', () => {
    const life = new ContainerLife(1, 'nodejs:20', 256, { key: 'a', maxConcurrency: 2 }, 0);
    life.initialising(container, { key: 'a', maxConcurrency: 2 });
    life.initialised();
    life.leaseRunning(1);
    expect(life.active).toBe(2);
    expect(life.release(true, 2)).toBe('still running');
    expect(life.release(true, 3)).toBe('warm');
    expect(life.state.name).toBe('warm');
  });
});

describe('SKYWHISK_STEM_CELLS', () => {
  test.each([
    ['unset: nodejs and python, reactive as OpenWhisk ships nodejs', undefined, [{ kind: 'nodejs:22', initialCount: 2 }, { kind: 'nodejs:20', initialCount: 0, reactive: { minCount: 0 } }, { kind: 'python:3.11', initialCount: 1 }]],
    ['empty: none', '', []],
    ['the compact form: static counts', 'nodejs:20:256:3', [{ kind: 'nodejs:20', memoryMb: 256, initialCount: 3 }]],
    [
      "OpenWhisk's runtimes.json form, with its units",
      '[{"kind":"python:3.11","memory":"512 MB","initialCount":1,"reactive":{"minCount":0,"maxCount":3,"ttl":"2 minutes","threshold":2,"increment":1}}]',
      [{ kind: 'python:3.11', memoryMb: 512, initialCount: 1, reactive: { minCount: 0, maxCount: 3, ttlMs: 120_000, threshold: 2, increment: 1 } }],
    ],
    ['ttl in seconds', '[{"kind":"nodejs:20","memory":"1 GB","initialCount":0,"reactive":{"minCount":0,"maxCount":1,"ttl":"90 s","threshold":1,"increment":1}}]', [{ memoryMb: 1024, reactive: { ttlMs: 90_000 } }]],
    ['ttl in milliseconds', '[{"kind":"nodejs:20","memory":256,"initialCount":0,"reactive":{"minCount":0,"maxCount":1,"ttl":"500 ms","threshold":1,"increment":1}}]', [{ reactive: { ttlMs: 500 } }]],
  ])('%s', (_name, value, expected) => {
    const cells = parseStemCells(value);
    expect(cells).toHaveLength(expected.length);
    expected.forEach((e, i) => expect(cells[i]).toMatchObject(e));
  });

  test.each([
    ['a compact item without a count', 'nodejs:20:256', /'nodejs' is not a runtime kind/],
    ['a compact item that is not one', 'nodejs', /'nodejs' is not kind:memory:count/],
    ['an unknown kind', 'ruby:3:256:1', /'ruby:3' is not a runtime kind/],
    ['a bad ttl, by its path', '[{"kind":"nodejs:20","memory":256,"initialCount":1,"reactive":{"minCount":0,"maxCount":1,"ttl":"soon","threshold":1,"increment":1}}]', /0\.reactive\.ttl: 'soon' is not a duration/],
    ['min above max', '[{"kind":"nodejs:20","memory":256,"initialCount":1,"reactive":{"minCount":3,"maxCount":1,"ttl":1000,"threshold":1,"increment":1}}]', /minCount must not exceed maxCount/],
    ['a misspelt field', '[{"kind":"nodejs:20","memory":256,"initialcount":1}]', /initialCount/],
    ['not JSON', '[{', /is not JSON/],
  ])('%s is refused', (_name, value, message) => {
    expect(() => parseStemCells(value)).toThrow(message);
  });
});

describe('SKYWHISK_PREWARM_CHECK_INTERVAL_MS', () => {
  test('unset or empty: a minute', () => {
    expect(parsePrewarmCheckInterval(undefined)).toBe(60_000);
    expect(parsePrewarmCheckInterval(' ')).toBe(60_000);
  });
  test.each(['0', '999', 'soon', '1.5e3x', '-5000'])("'%s' is refused rather than checking every millisecond", (value) => {
    expect(() => parsePrewarmCheckInterval(value)).toThrow(/SKYWHISK_PREWARM_CHECK_INTERVAL_MS: .* at least 1000/);
  });
});
