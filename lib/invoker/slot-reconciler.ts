import type { Logger } from 'pino';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { ActivationsRepository } from '../store/activations';
import type { ThrottleCounters } from '../store/throttle-counters';

export interface SlotReconcilerDeps {
  /** Every queue an accepted activation's message can be in: the invocation queue and its dead-letter queue. */
  queues: InvocationQueue[];
  throttles: Pick<ThrottleCounters, 'leases' | 'releaseSlot'>;
  activations: Pick<ActivationsRepository, 'claimHolder'>;
}

/**
 * A lease younger than this is left alone: its controller may be between taking it and sending
 * the message, and SQS's message counts are approximate for about a minute.
 */
export const DEFAULT_RECONCILE_AFTER_MS = 60_000;

/**
 * Gives back throttle slots no activation will ever give back: a controller that died between
 * taking a slot and sending the message (the client got no id) leaves a lease that would count
 * against its namespace for the lease's whole 15 minutes. Whenever every queue is empty, a lease
 * whose activation has neither a claim nor a record has no message anywhere: it is released.
 * (A lease whose activation has a record is released too: its holder died before giving it back.)
 */
export class SlotReconciler {
  private lastRunAt = -Infinity;

  constructor(
    private readonly deps: SlotReconcilerDeps,
    private readonly log: Logger,
    private readonly reconcileAfterMs = DEFAULT_RECONCILE_AFTER_MS,
  ) {}

  /**
   * Returns how many slots were given back (none while any queue holds messages). Runs at most
   * once per `reconcileAfterMs`: it scans the coordination table.
   */
  async reconcile(now = Date.now()): Promise<number> {
    if (now - this.lastRunAt < this.reconcileAfterMs) return 0;
    this.lastRunAt = now;
    for (const queue of this.deps.queues) if (!(await queue.isEmpty())) return 0;
    let released = 0;
    for await (const lease of this.deps.throttles.leases()) {
      if (lease.takenAt > now - this.reconcileAfterMs) continue;
      const { namespace, activationId } = lease;
      // A claim means it runs (its holder gives the slot back); a record or nothing means nobody will.
      if (await this.deps.activations.claimHolder(namespace, activationId)) continue;
      await this.deps.throttles.releaseSlot(namespace, activationId);
      released++;
      this.log.warn({ namespace, activationId }, 'gave back a throttle slot no activation holds any more');
    }
    return released;
  }
}
