import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';

/** Something that makes sure an invoker will come to take what was just enqueued. */
export interface FleetWaker {
  wake(): Promise<void>;
}

export interface EcsFleetWakerOptions {
  cluster: string;
  service: string;
  /** After seeing the service awake, how long it is trusted to stay so before looking again. */
  recheckMs?: number;
  now?: () => number;
}

/**
 * Scales the invoker service from zero as work arrives, instead of waiting minutes for a queue
 * alarm: when the service wants no task, it is set to one (ECS UpdateService). Autoscaling takes
 * over from there. A failure is logged, never raised: the message is already queued and the
 * backlog alarm will still scale the service out.
 */
export class EcsFleetWaker implements FleetWaker {
  private awakeSince = Number.NEGATIVE_INFINITY;
  private inFlight?: Promise<void>;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ecs: ECSClient,
    private readonly options: EcsFleetWakerOptions,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
  ) {
    this.recheckMs = options.recheckMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  wake(): Promise<void> {
    if (this.now() - this.awakeSince < this.recheckMs) return Promise.resolve();
    // Concurrent enqueues share one look at the service.
    this.inFlight ??= this.look().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async look(): Promise<void> {
    const { cluster, service } = this.options;
    try {
      const described = await this.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
      const desired = described.services?.[0]?.desiredCount;
      if (desired === undefined) {
        this.log.warn({ cluster, service }, 'invoker service not found; cannot wake it');
        return;
      }
      if (desired === 0) {
        await this.ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: 1 }));
        this.log.info({ cluster, service }, 'invoker service was at zero tasks; woken');
      }
      this.awakeSince = this.now();
    } catch (error) {
      this.log.warn({ err: error, cluster, service }, 'could not wake the invoker service');
    }
  }
}
