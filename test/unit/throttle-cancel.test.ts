import { Throttles } from '../../lib/controller/throttles';
import type { ThrottleCounters } from '../../lib/store/throttle-counters';
import type { Identity } from '../../lib/store/subjects';

// An activation the controller admitted but could not enqueue gives its slot back even when the
// store is away for a few seconds (the embedded endpoint restarting): otherwise the slot would
// count against the namespace for its whole 15-minute lease.

const identity = { namespace: 'guest', subject: 'guest' } as Identity;

function countersFailing(times: number): { counters: ThrottleCounters; calls: () => number } {
  let calls = 0;
  const counters = {
    releaseSlot: async () => {
      calls++;
      if (calls <= times) throw new Error('connect ECONNREFUSED');
    },
  } as unknown as ThrottleCounters;
  return { counters, calls: () => calls };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('the slot is given back once the store answers again', async () => {
  const { counters, calls } = countersFailing(3);
  const cancelled = new Throttles(counters).cancelActivation(identity, 'a'.repeat(32));
  await jest.advanceTimersByTimeAsync(3000);
  await expect(cancelled).resolves.toBeUndefined();
  expect(calls()).toBe(4);
});

test('a store away for longer than the retry window: the error is raised, not swallowed', async () => {
  const { counters } = countersFailing(Infinity);
  const cancelled = new Throttles(counters).cancelActivation(identity, 'b'.repeat(32), 2000);
  const outcome = expect(cancelled).rejects.toThrow(/ECONNREFUSED/);
  await jest.advanceTimersByTimeAsync(5000);
  await outcome;
});
