import { ThrottleMessages, WhiskError } from '../model/errors';
import { userLimits } from '../model/limits';
import type { Identity } from '../store/subjects';
import type { ThrottleCounters } from '../store/throttle-counters';

/** How long giving back the slot of an activation that could not be enqueued is retried. */
const CANCEL_RETRY_MS = 8000;

/**
 * OpenWhisk's per-namespace throttles, with the subject's overrides: invocations per minute, then
 * activations in flight (accepted and not yet ended in a record), and trigger fires per minute.
 * Over a limit is a 429 with OpenWhisk's message; a limit of 0 blocks the namespace.
 */
export class Throttles {
  constructor(private readonly counters: ThrottleCounters) {}

  /** Admits one activation or throws a 429. An admitted activation holds a slot until its record is stored. */
  async admitActivation(identity: Identity, activationId: string): Promise<void> {
    const limits = userLimits(identity.limits);
    const admission = await this.counters.admit(identity.namespace, activationId, { perMinute: limits.invocationsPerMinute, concurrent: limits.concurrentInvocations });
    if (admission.admitted) return;
    if (admission.limit === 'perMinute') throw new WhiskError(429, ThrottleMessages.perMinute(admission.count, limits.invocationsPerMinute));
    throw new WhiskError(429, ThrottleMessages.concurrent(admission.count, limits.concurrentInvocations));
  }

  /**
   * Gives back the slot of an admitted activation that was never enqueued. The enqueue failed most
   * likely because the store is away for a moment (an endpoint restarting), so this retries for a
   * few seconds: a slot not given back would count against the namespace for its whole lease.
   */
  async cancelActivation(identity: Identity, activationId: string, retryForMs = CANCEL_RETRY_MS): Promise<void> {
    const giveUpAt = Date.now() + retryForMs;
    for (let delay = 250; ; delay *= 2) {
      try {
        return await this.counters.releaseSlot(identity.namespace, activationId);
      } catch (error) {
        if (Date.now() + delay > giveUpAt) throw error;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Admits one trigger fire or throws a 429. */
  async admitFire(identity: Identity): Promise<void> {
    const allowed = userLimits(identity.limits).firesPerMinute;
    const count = await this.counters.countInMinute(identity.namespace, 'fires');
    if (count > allowed) throw new WhiskError(429, ThrottleMessages.perMinute(count, allowed));
  }
}
