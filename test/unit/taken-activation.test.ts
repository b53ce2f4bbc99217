import { recordOfTaken } from '../../lib/controller/taken-activation';
import type { ActivationMessage } from '../../lib/model/activation';
import type { Identity } from '../../lib/store/subjects';

// What the controller does with a direct dispatch whose answer was lost: the client gets the id
// once a claim in the holder's name is stored, whatever fails after; never before.

afterEach(() => jest.useRealTimers());

const identity = { namespace: 'guest', subject: 'guest' } as Identity;
const message = {
  activationId: 'a1', namespace: 'guest', subject: 'guest', transactionId: 't', acceptedAt: Date.now(), blocking: true, params: {},
  action: { namespace: 'guest', path: 'hello', revision: '1' },
} as ActivationMessage;

function deps(overrides: { claimOnBehalf?: () => Promise<boolean>; get?: () => Promise<undefined> }) {
  return {
    activations: { claimOnBehalf: overrides.claimOnBehalf ?? (async () => true), get: overrides.get ?? (async () => undefined), claimHolder: async () => undefined, complete: async () => true },
    invokers: { claimantIsGone: async () => false },
    throttles: { countOffRecorded: async () => undefined },
  } as unknown as Parameters<typeof recordOfTaken>[0];
}

test('the claim is stored, then the store fails: no record yet, so the client gets the id (a 202), not an error', async () => {
  const failing = deps({ get: async () => Promise.reject(new Error('store away')) });
  await expect(recordOfTaken(failing, identity, message, 'invoker-a/1', { deadline: Date.now() + 50 })).resolves.toBeUndefined();
});

test('the claim cannot be stored: no id may be handed out, so the request fails', async () => {
  jest.useFakeTimers();
  let attempts = 0;
  const away = deps({ claimOnBehalf: async () => (attempts++, Promise.reject(new Error('store away'))) });
  const outcome = recordOfTaken(away, identity, message, 'invoker-a/1', { deadline: Date.now() + 10_000 }).then(
    () => 'answered',
    () => 'failed',
  );
  await jest.advanceTimersByTimeAsync(5000);
  expect(await outcome).toBe('failed');
  expect(attempts).toBeGreaterThan(1);
});
