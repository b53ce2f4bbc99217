import type { Logger } from 'pino';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { ActivationsRepository } from '../store/activations';
import type { ThrottleCounters } from '../store/throttle-counters';

export interface SlotReconcilerDeps {
  /** Every queue an accepted activation's message can be in: the invocation queue and its dead-letter queue. */
  queues: InvocationQueue[];
  throttles: Pick<ThrottleCounters, 'leases' | 'releaseSlot' | 'inFlightCounts' | 'correctInFlight'>;
  activations: Pick<ActivationsRepository, 'claimHolder'>;
}

/**
 * A lease younger than this is left alone: its controller may be between taking it and sending
 * the message, and SQS's message counts are approximate for about a minute.
 */
export const DEFAULT_RECONCILE_AFTER_MS = 60_000;

/**
 * Keeps the throttles honest when a process died at the wrong moment:
 * - A controller that died between taking a slot and sending the message (the client got no id)
 *   leaves a lease that nothing gives back. Whenever every queue is empty, a lease whose activation
 *   has neither a claim nor a record has no message anywhere: it is released. (A lease whose
 *   activation has a record is released too: its holder died before giving it back.)
 * - A lease past its deadline stops counting, whatever the queues hold.
 * - A process that died between writing a lease and counting it (or between deleting one and
 *   counting it off) leaves the namespace's in-flight count off by one. A difference between the
 *   count and the live leases seen in two runs in a row is corrected (one seen once may be an
 *   admission or a release half way through).
 */
export class SlotReconciler {
  private lastRunAt = -Infinity;
  /** Differences between in-flight counts and live leases seen in the last run, by namespace. */
  private lastDifferences = new Map<string, number>();

  constructor(
    private readonly deps: SlotReconcilerDeps,
    private readonly log: Logger,
    private readonly reconcileAfterMs = DEFAULT_RECONCILE_AFTER_MS,
  ) {}

  /**
   * Returns how many slots were given back. Runs at most once per `reconcileAfterMs`: it scans
   * the coordination table.
   */
  async reconcile(now = Date.now()): Promise<number> {
    if (now - this.lastRunAt < this.reconcileAfterMs) return 0;
    this.lastRunAt = now;
    let queuesEmpty = true;
    for (const queue of this.deps.queues) if (!(await queue.isEmpty())) queuesEmpty = false;
    let released = 0;
    const liveLeases = new Map<string, number>();
    for await (const lease of this.deps.throttles.leases()) {
      const { namespace, activationId } = lease;
      if (lease.deadline <= now) {
        await this.deps.throttles.releaseSlot(namespace, activationId, now);
        released++;
        this.log.warn({ namespace, activationId }, 'a throttle slot outlived its lease; gave it back');
        continue;
      }
      // A claim means it runs (its holder gives the slot back); a record or nothing means nobody will.
      if (queuesEmpty && lease.takenAt <= now - this.reconcileAfterMs && !(await this.deps.activations.claimHolder(namespace, activationId))) {
        await this.deps.throttles.releaseSlot(namespace, activationId);
        released++;
        this.log.warn({ namespace, activationId }, 'gave back a throttle slot no activation holds any more');
        continue;
      }
      liveLeases.set(namespace, (liveLeases.get(namespace) ?? 0) + 1);
    }
    await this.correctCounts(liveLeases);
    return released;
  }

  private async correctCounts(liveLeases: Map<string, number>): Promise<void> {
    const differences = new Map<string, number>();
    for await (const { namespace, inflight } of this.deps.throttles.inFlightCounts()) {
      const difference = (liveLeases.get(namespace) ?? 0) - inflight;
      if (difference === 0) continue;
      differences.set(namespace, difference);
      if (this.lastDifferences.get(namespace) !== difference) continue;
      if (await this.deps.throttles.correctInFlight(namespace, inflight, difference)) {
        this.log.warn({ namespace, counted: inflight, leases: inflight + difference }, 'corrected the in-flight count of a namespace to its live slots');
        differences.delete(namespace);
      }
    }
    this.lastDifferences = differences;
  }
}
