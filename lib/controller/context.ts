import type { AlarmScheduler } from '../alarms/scheduler';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { FleetWaker } from './fleet-waker';
import type { ActivationsRepository } from '../store/activations';
import type { EntitiesRepository } from '../store/entities';
import type { Identity, SubjectsRepository } from '../store/subjects';

/** What the controller needs from its edge: repositories, the bus, and a few settings. */
export interface ControllerDeps {
  subjects: SubjectsRepository;
  entities: EntitiesRepository;
  activations: ActivationsRepository;
  queue: InvocationQueue;
  /** Upper bound of a blocking wait: 60 s locally, below API Gateway's 29 s in AWS. */
  maxBlockingWaitMs: number;
  /** The alarms feed's scheduler; without one the provider routes are absent (the feed answers an error). */
  alarms?: AlarmScheduler;
  /** Wakes an invoker fleet that scaled to zero (ECS in AWS); absent where invokers always run. */
  waker?: FleetWaker;
}

export type ControllerEnv = {
  Variables: {
    identity: Identity;
    transactionId: string;
  };
};
