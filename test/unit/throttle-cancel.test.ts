import { Throttles } from '../../lib/controller/throttles';
import type { ThrottleCounters } from '../../lib/store/throttle-counters';
import type { Identity } from '../../lib/store/subjects';

// An activation the controller admitted but could not enqueue gives its slot back (its lease,
// then its count) even when the store is away for a few seconds (the embedded endpoint
// restarting): otherwise the slot would count against the namespace until the reconciler finds it.

const identity = { namespace: 'guest', subject: 'guest' } as Identity;

function countersFailing(times: number) {
  const calls: string[] = [];
  let failures = 0;
  const step = (name: string, result: unknown) => async () => {
    calls.push(name);
    if (failures++ < times) throw new Error('connect ECONNREFUSED');
    return result;
  };
  const counters = { deleteLease: step('deleteLease', true), countOff: step('countOff', undefined) } as unknown as ThrottleCounters;
  return { counters, calls };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('the lease is deleted and the count given back once the store answers again, each once', async () => {
  const { counters, calls } = countersFailing(3);
  const cancelled = new Throttles(counters).cancelActivation(identity, 'a'.repeat(32), true);
  await jest.advanceTimersByTimeAsync(3000);
  await expect(cancelled).resolves.toBeUndefined();
  expect(calls).toEqual(['deleteLease', 'deleteLease', 'deleteLease', 'deleteLease', 'countOff']);
});

test('an activation without a lease only gives its count back', async () => {
  const { counters, calls } = countersFailing(0);
  await new Throttles(counters).cancelActivation(identity, 'c'.repeat(32), false);
  expect(calls).toEqual(['countOff']);
});

test('a store away for longer than the retry window: the error is raised, not swallowed', async () => {
  const { counters } = countersFailing(Infinity);
  const cancelled = new Throttles(counters).cancelActivation(identity, 'b'.repeat(32), true, 2000);
  const outcome = expect(cancelled).rejects.toThrow(/ECONNREFUSED/);
  await jest.advanceTimersByTimeAsync(5000);
  await outcome;
});
