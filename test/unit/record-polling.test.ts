import { waitForRecord } from '../../lib/bus/result-waiter';
import { RecentDurations } from '../../lib/controller/recent-durations';
import type { ActivationRecord } from '../../lib/model/activation';

// The last-resort wait for a blocking result reads the store; how often it reads follows how long
// the action ran lately. Fake timers stand in for the run; a fake store counts the reads.

afterEach(() => jest.useRealTimers());

/** A store whose record appears `readyAfterMs` from now; counts the reads. */
function storeWithRecordAfter(readyAfterMs: number) {
  const readyAt = Date.now() + readyAfterMs;
  const record = { activationId: 'a1' } as ActivationRecord;
  const store = { reads: 0, get: async () => (store.reads++, Date.now() >= readyAt ? record : undefined) };
  return store;
}

async function waitWithFakeTime(readyAfterMs: number, expectedMs: number | undefined, timeoutMs = 60_000) {
  jest.useFakeTimers();
  const store = storeWithRecordAfter(readyAfterMs);
  let answeredAt: number | undefined;
  const startedAt = Date.now();
  const waiting = waitForRecord(store, 'guest', 'a1', timeoutMs, undefined, expectedMs).then((record) => {
    answeredAt = Date.now();
    return record;
  });
  await jest.advanceTimersByTimeAsync(timeoutMs + 1000);
  return { record: await waiting, reads: store.reads, latencyMs: answeredAt! - startedAt - readyAfterMs };
}

test.each([
  // [what the user sees, the run, what was expected of it, at most this many reads, answered at most this late]
  ['an action of unknown run time: read tightly, then every 50 ms', 5000, undefined, 120, 50],
  ['a 5 s action known to run about 5 s: a handful of reads, answered within a tenth of its run', 5000, 5000, 40, 500],
  ['a 60 s action known as such: about one read a second', 59_000, 60_000, 70, 1000],
  ['a quick action known to be quick: the tight schedule, answered within a few ms', 30, 20, 20, 10],
  ['an action that ran long before but is quick now: answered within 2 s all the same', 100, 30_000, 5, 2000],
])('%s', async (_name, runMs, expectedMs, maxReads, maxLatencyMs) => {
  const { record, reads, latencyMs } = await waitWithFakeTime(runMs, expectedMs);
  expect(record?.activationId).toBe('a1');
  expect(reads).toBeLessThanOrEqual(maxReads);
  expect(latencyMs).toBeLessThanOrEqual(maxLatencyMs);
});

test('polling a 5 s action reads the store far less often once its run time is known', async () => {
  const unknown = await waitWithFakeTime(5000, undefined);
  const known = await waitWithFakeTime(5000, 5000);
  expect(known.reads * 5).toBeLessThan(unknown.reads);
});

test('a wait past its timeout answers nothing, however long the action was expected to run', async () => {
  const { record } = await waitWithFakeTime(10_000, 60_000, 3000);
  expect(record).toBeUndefined();
});

test('recent runs weigh more than old ones, and the least recently seen action is forgotten first', () => {
  const durations = new RecentDurations(2);
  durations.note('a', 1000);
  for (let i = 0; i < 10; i++) durations.note('a', 100);
  expect(durations.expected('a')).toBeLessThan(150);
  durations.note('b', 10);
  durations.note('a', 100);
  durations.note('c', 10);
  expect(durations.expected('b')).toBeUndefined();
  expect(durations.expected('a')).toBeDefined();
  durations.note('a', Number.NaN);
  expect(durations.expected('a')).toBeLessThan(150);
});
