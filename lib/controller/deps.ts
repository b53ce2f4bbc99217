import { awsClients } from '../aws-clients';
import { InvocationQueue } from '../bus/invocation-queue';
import { configFromEnv } from '../config';
import { SYSTEM_LIMITS } from '../model/limits';
import { ActivationsRepository } from '../store/activations';
import { EntitiesRepository } from '../store/entities';
import { SubjectsRepository } from '../store/subjects';
import type { ControllerDeps } from './context';

/** Controller dependencies from the environment; `SKYWHISK_MAX_BLOCKING_WAIT_MS` bounds blocking waits. */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): ControllerDeps {
  const config = configFromEnv(env);
  const { dynamo, sqs } = awsClients();
  return {
    subjects: new SubjectsRepository(dynamo, config.tables.subjects),
    entities: new EntitiesRepository(dynamo, config.tables.entities),
    activations: new ActivationsRepository(dynamo, config.tables.activations, config.activationRetentionDays),
    queue: new InvocationQueue(sqs, config.queues.invoke),
    maxBlockingWaitMs: Number(env.SKYWHISK_MAX_BLOCKING_WAIT_MS ?? SYSTEM_LIMITS.maxBlockingWaitMs),
  };
}
