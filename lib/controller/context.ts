import type { AlarmScheduler } from '../alarms/scheduler';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { DirectDispatcher } from './direct-dispatch';
import type { FleetWaker } from './fleet-waker';
import type { RecentDurations } from './recent-durations';
import type { Throttles } from './throttles';
import type { ActivationsRepository } from '../store/activations';
import type { EntityReader } from '../store/entity-cache';
import type { EntitiesRepository } from '../store/entities';
import type { InvokerRegistry } from '../store/invoker-registry';
import type { Identity, SubjectsRepository } from '../store/subjects';

/** What the controller needs from its edge: repositories, the bus, and a few settings. */
export interface ControllerDeps {
  subjects: SubjectsRepository;
  entities: EntitiesRepository;
  /** The invoke path's reads of actions and packages: cached for a few seconds (see EntityCache). */
  entityCache?: EntityReader;
  activations: ActivationsRepository;
  queue: InvocationQueue;
  /** Per-namespace throttles, counted in the coordination table across every controller. */
  throttles: Throttles;
  /** Upper bound of a blocking wait: 60 s locally, below API Gateway's 29 s in AWS. */
  maxBlockingWaitMs: number;
  /** The alarms feed's scheduler; without one the provider routes are absent (the feed answers an error). */
  alarms?: AlarmScheduler;
  /** The invoker registry, for operators' `GET /invokers`. */
  invokers: InvokerRegistry;
  /** Wakes an invoker fleet that scaled to zero (ECS in AWS); absent where invokers always run. */
  waker?: FleetWaker;
  /** Dispatches blocking activations straight to invokers (with the platform's dispatch secret); absent: the queue only. */
  dispatcher?: DirectDispatcher;
  /**
   * Non-blocking invokes and rule activations go straight to an invoker with room too (fewer
   * store and queue calls; each accept then waits for an invoker to take it, which a saturated
   * invoker makes slower than a queue send). Off unless `SKYWHISK_DIRECT_NON_BLOCKING=true`.
   */
  directNonBlocking?: boolean;
  /** Each action's recent run time, which spaces out the reads of a blocking wait that polls the store. */
  recentDurations?: RecentDurations;
}

export type ControllerEnv = {
  Variables: {
    identity: Identity;
    transactionId: string;
  };
};
