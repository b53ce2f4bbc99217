import { ThrottleMessages, WhiskError } from '../model/errors';
import { userLimits } from '../model/limits';
import type { Identity } from '../store/subjects';
import { retryFor } from '../store/retry';
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

  /**
   * Admits one activation or throws a 429. An admitted activation holds a slot until its record is
   * stored; `lease`: it goes through the queue (see ThrottleCounters).
   */
  async admitActivation(identity: Identity, activationId: string, lease: boolean): Promise<void> {
    const limits = userLimits(identity.limits);
    const admission = await this.counters.admit(identity.namespace, activationId, { perMinute: limits.invocationsPerMinute, concurrent: limits.concurrentInvocations }, { lease });
    if (admission.admitted) return;
    if (admission.limit === 'perMinute') throw new WhiskError(429, ThrottleMessages.perMinute(admission.count, limits.invocationsPerMinute));
    throw new WhiskError(429, ThrottleMessages.concurrent(admission.count, limits.concurrentInvocations));
  }

  /** Writes the lease of an admitted activation that goes on the queue after all (no invoker took it directly). */
  async leaseActivation(identity: Identity, activationId: string): Promise<void> {
    await this.counters.writeLease(identity.namespace, activationId);
  }

  /**
   * Gives back the slot of an admitted activation that was never enqueued (its lease, then its
   * count). The enqueue failed most likely because the store is away for a moment (an endpoint
   * restarting), so each step is retried for a few seconds: a slot not given back would count
   * against the namespace until the reconciler finds it.
   */
  async cancelActivation(identity: Identity, activationId: string, leased: boolean, retryForMs = CANCEL_RETRY_MS): Promise<void> {
    const giveUpAt = Date.now() + retryForMs;
    if (leased) await retryFor(retryForMs, () => this.counters.deleteLease(identity.namespace, activationId));
    await retryFor(Math.max(0, giveUpAt - Date.now()), () => this.counters.countOff(identity.namespace));
  }

  /** Counts off an admitted activation whose record this process stored (retried for a few seconds, as a cancel). */
  async countOffRecorded(identity: Identity, retryForMs = CANCEL_RETRY_MS): Promise<void> {
    await retryFor(retryForMs, () => this.counters.countOff(identity.namespace));
  }

  /** Gives back the admissions this controller reserved and did not hand out (at shutdown). */
  async releaseShares(): Promise<void> {
    await this.counters.releaseShares();
  }

  /** Admits one trigger fire or throws a 429. */
  async admitFire(identity: Identity): Promise<void> {
    const allowed = userLimits(identity.limits).firesPerMinute;
    const count = await this.counters.countInMinute(identity.namespace, 'fires');
    if (count > allowed) throw new WhiskError(429, ThrottleMessages.perMinute(count, allowed));
  }
}
