import type { Logger } from 'pino';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { ActivationsRepository } from '../store/activations';
import { SHARE_GRACE_MS } from '../store/admission-shares';
import type { InFlightCount, ThrottleCounters } from '../store/throttle-counters';
import type { RunningActivation } from './dispatch-server';

export interface SlotReconcilerDeps {
  /** Every queue an accepted activation's message can be in: the invocation queue and its dead-letter queue. */
  queues: InvocationQueue[];
  throttles: Pick<ThrottleCounters, 'leases' | 'deleteLease' | 'countOff' | 'inFlightCounts' | 'correctInFlight'>;
  activations: Pick<ActivationsRepository, 'progress' | 'claimsHeldBy'>;
  /** The invoker processes that may hold claims (see InvokerRegistry.unsweptClaimants). */
  claimants: () => Promise<string[]>;
  /**
   * The admitted activations live invokers run from direct dispatches, which have no claim while
   * they run (see directRunsOfLiveInvokers); undefined when that is unknown.
   */
  directRuns: () => Promise<RunningActivation[] | undefined>;
}

/**
 * A lease younger than this is left alone: its controller may be between taking it and sending
 * the message, and SQS's message counts are approximate for about a minute.
 */
export const DEFAULT_RECONCILE_AFTER_MS = 60_000;

/**
 * Keeps the throttles honest when a process died at the wrong moment (see ThrottleCounters):
 * - A controller that died between admitting an activation and sending its message (the client got
 *   no id) leaves a lease nothing will delete. Whenever every queue is empty, a lease whose
 *   activation has neither a claim nor a record has no message anywhere: it is deleted and its
 *   activation counted off. A lease whose activation has a record is deleted too (its holder died
 *   before deleting it), and so is one past its deadline, whatever the queues hold.
 * - What is really in flight is the live leases, the admitted activations live invokers run from
 *   direct dispatches, and those claimed and not yet recorded. A namespace whose count differs from
 *   that by the same amount in two runs in a row, and whose counts (in flight, and admitted this
 *   minute) did not move while it was looked at (a process died between storing a record and
 *   counting it off, say), is corrected; a difference seen once may be an admission or a record
 *   half way through. Nothing is corrected in a run that could not ask every live invoker.
 * - A namespace's count includes the admissions controllers reserved in shares and did not hand
 *   out yet, which nothing else shows: of a count above what is in flight, as much as its live
 *   shares' sizes is left alone. A share long past its end belongs to a controller that died
 *   holding it; the correction removes it, and so counts its unused admissions off once.
 */
export class SlotReconciler {
  private lastRunAt = -Infinity;
  /** Differences between in-flight counts and what is in flight seen in the last run, by namespace. */
  private lastDifferences = new Map<string, number>();

  constructor(
    private readonly deps: SlotReconcilerDeps,
    private readonly log: Logger,
    private readonly reconcileAfterMs = DEFAULT_RECONCILE_AFTER_MS,
  ) {}

  /**
   * Returns how many leases were deleted. Runs at most once per `reconcileAfterMs`: it scans the
   * coordination table.
   */
  async reconcile(now = Date.now()): Promise<number> {
    if (now - this.lastRunAt < this.reconcileAfterMs) return 0;
    this.lastRunAt = now;
    let queuesEmpty = true;
    for (const queue of this.deps.queues) if (!(await queue.isEmpty())) queuesEmpty = false;
    let deleted = 0;
    // Counts read before and after the look at what is in flight: a namespace whose count moved
    // meanwhile is busy, and its difference says nothing.
    const countsBefore = await this.counts();
    const inFlight = new Map<string, Set<string>>();
    const count = (namespace: string, activationId: string) => inFlight.set(namespace, (inFlight.get(namespace) ?? new Set()).add(activationId));
    for await (const lease of this.deps.throttles.leases()) {
      const { namespace, activationId } = lease;
      if (lease.deadline <= now) {
        if (await this.deps.throttles.deleteLease(namespace, activationId, now)) {
          deleted++;
          this.log.warn({ namespace, activationId }, 'a throttle lease outlived its deadline; deleted it');
        }
        continue;
      }
      if (lease.takenAt > now - this.reconcileAfterMs) {
        count(namespace, activationId);
        continue;
      }
      const progress = await this.deps.activations.progress(namespace, activationId);
      if (progress === 'claimed' || (progress === undefined && !queuesEmpty)) {
        count(namespace, activationId);
        continue;
      }
      if (await this.deps.throttles.deleteLease(namespace, activationId)) {
        deleted++;
        // Recorded: counted off by whoever stored it. Nowhere: nobody ever will.
        if (progress === undefined) await this.deps.throttles.countOff(namespace);
        this.log.warn({ namespace, activationId, progress: progress ?? 'nowhere' }, 'deleted a throttle lease no activation holds any more');
      }
    }
    // Asked before the claims are read: one that a claim replaces meanwhile is seen at least once.
    const direct = await this.deps.directRuns();
    for (const run of direct ?? []) count(run.namespace, run.activationId);
    for (const claimant of await this.deps.claimants()) {
      for (const claim of await this.deps.activations.claimsHeldBy(claimant)) if (claim.admitted) count(claim.namespace, claim.activationId);
    }
    if (direct) await this.correctCounts(inFlight, countsBefore, now);
    else this.lastDifferences.clear();
    return deleted;
  }

  /**
   * Each namespace's in-flight count, what says whether it moved (admissions count in the minute,
   * shares come and go), and its shares.
   */
  private async counts(): Promise<Map<string, { inflight: number; mark: string; shares: InFlightCount['shares'] }>> {
    const counts = new Map<string, { inflight: number; mark: string; shares: InFlightCount['shares'] }>();
    for await (const { namespace, inflight, minute, minuteCount, shares } of this.deps.throttles.inFlightCounts()) {
      const shareMark = shares.map((share) => share.attribute).sort().join(',');
      counts.set(namespace, { inflight, mark: `${inflight}/${minute}/${minuteCount}/${shareMark}`, shares });
    }
    return counts;
  }

  private async correctCounts(inFlight: Map<string, Set<string>>, countsBefore: Map<string, { mark: string }>, now: number): Promise<void> {
    const differences = new Map<string, number>();
    for (const [namespace, { inflight, mark, shares }] of await this.counts()) {
      if (countsBefore.get(namespace)?.mark !== mark) continue;
      const live = (share: InFlightCount['shares'][number]) => share.until + SHARE_GRACE_MS > now;
      const ended = shares.filter((share) => !live(share)).map((share) => share.attribute);
      // Live shares may hold up to their sizes unhanded: a count that high above what is in flight
      // may be right. Only what is beyond that is corrected (and a count below what is in flight).
      const unhanded = shares.filter(live).reduce((sum, share) => sum + share.size, 0);
      const excess = inflight - (inFlight.get(namespace)?.size ?? 0);
      const difference = excess < 0 ? -excess : -Math.max(0, excess - unhanded);
      if (difference === 0 && !ended.length) continue;
      differences.set(namespace, difference);
      if (this.lastDifferences.get(namespace) !== difference) continue;
      if (await this.deps.throttles.correctInFlight(namespace, inflight, difference, ended)) {
        if (difference) this.log.warn({ namespace, counted: inflight, inFlight: inflight + difference }, 'corrected the in-flight count of a namespace to what is in flight');
        if (ended.length) this.log.warn({ namespace, shares: ended }, 'removed admission shares whose controllers died holding them');
        differences.delete(namespace);
      }
    }
    this.lastDifferences = differences;
  }
}
