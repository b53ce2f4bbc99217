import { activeRuntimes } from '../model/runtimes';
import { actionLimitRanges } from '../model/limits';
import { ECSClient } from '@aws-sdk/client-ecs';
import pino from 'pino';
import { alarmSchedulerFromEnv } from '../alarms/eventbridge-scheduler';
import { AlarmsRepository } from '../alarms/store';
import { awsClients } from '../aws-clients';
import { InvocationQueue } from '../bus/invocation-queue';
import { configFromEnv } from '../config';
import { SYSTEM_LIMITS } from '../model/limits';
import { ActivationsRepository } from '../store/activations';
import { EntitiesRepository } from '../store/entities';
import { EntityCache } from '../store/entity-cache';
import { DEFAULT_OFFLINE_AFTER_MS, InvokerRegistry } from '../store/invoker-registry';
import { RecentDurations } from './recent-durations';
import { SkipCursors } from '../store/skip-cursors';
import { SubjectsRepository } from '../store/subjects';
import { DEFAULT_SHARE_SETTINGS } from '../store/admission-shares';
import { ThrottleCounters } from '../store/throttle-counters';
import type { ControllerDeps } from './context';
import { DEFAULT_DIRECTORY_TTL_MS, DirectDispatcher, InvokerDirectory } from './direct-dispatch';
import { EcsFleetWaker, type FleetWaker } from './fleet-waker';
import { Throttles } from './throttles';

/**
 * Inside Lambda, unless told: a buffered API Gateway integration ends at 29 s, so waits end before
 * that. The CDK stack streams its integration and sets OpenWhisk's 60 s.
 */
const LAMBDA_BLOCKING_WAIT_MS = 25_000;


/** How long the invoke path reuses an action or package it read (an update elsewhere shows within this). */
const DEFAULT_ENTITY_CACHE_MS = 5000;

/**
 * Controller dependencies from the environment; `SKYWHISK_MAX_BLOCKING_WAIT_MS` bounds blocking
 * waits (60 s locally and from the CDK stack, 25 s in Lambda unless set); with `SKYWHISK_DISPATCH_SECRET`, blocking
 * activations go straight to invokers, whose list is read from the registry every
 * `SKYWHISK_DISPATCH_DIRECTORY_MS` (2 s). `SKYWHISK_ADMISSION_SHARES` (`true` unless in Lambda)
 * admits busy namespaces from shares of their limits, each used `SKYWHISK_ADMISSION_SHARE_MS`
 * (1 s; see AdmissionShares).
 */
export function depsFromEnv(env: NodeJS.ProcessEnv = process.env): ControllerDeps {
  const config = configFromEnv(env);
  // A bad manifest or limit setting stops the start, rather than failing requests one by one.
  activeRuntimes();
  actionLimitRanges();
  const { dynamo, sqs } = awsClients();
  const entities = new EntitiesRepository(dynamo, config.tables.entities);
  const invokers = new InvokerRegistry(dynamo, config.tables.coordination, Number(env.SKYWHISK_INVOKER_OFFLINE_MS ?? DEFAULT_OFFLINE_AFTER_MS));
  const dispatchSecret = env.SKYWHISK_DISPATCH_SECRET;
  return {
    subjects: new SubjectsRepository(dynamo, config.tables.subjects),
    entities,
    entityCache: new EntityCache(entities, Number(env.SKYWHISK_ENTITY_CACHE_MS ?? DEFAULT_ENTITY_CACHE_MS)),
    activations: new ActivationsRepository(dynamo, config.tables.activations, config.activationRetentionDays, new SkipCursors()),
    queue: new InvocationQueue(sqs, config.queues.invoke),
    throttles: new Throttles(new ThrottleCounters(dynamo, config.tables.coordination, admissionSharesFromEnv(env))),
    invokers,
    dispatcher: dispatchSecret
      ? new DirectDispatcher(new InvokerDirectory(invokers, Number(env.SKYWHISK_DISPATCH_DIRECTORY_MS ?? DEFAULT_DIRECTORY_TTL_MS)), dispatchSecret, pino({ name: 'dispatch', level: env.SKYWHISK_LOG_LEVEL ?? 'info' }))
      : undefined,
    maxBlockingWaitMs: Number(
      env.SKYWHISK_MAX_BLOCKING_WAIT_MS ?? (env.AWS_LAMBDA_FUNCTION_NAME ? LAMBDA_BLOCKING_WAIT_MS : SYSTEM_LIMITS.maxBlockingWaitMs),
    ),
    waker: fleetWakerFromEnv(env),
    recentDurations: new RecentDurations(),
    directNonBlocking: env.SKYWHISK_DIRECT_NON_BLOCKING === 'true',
    // In AWS the alarms feed schedules with EventBridge; locally controller-main sets its own scheduler.
    alarms: alarmSchedulerFromEnv(env, new AlarmsRepository(dynamo, config.tables.entities)),
  };
}

/**
 * Shares suit a controller that lives and serves many requests at once. A Lambda instance serves
 * one request at a time and is frozen between them, so a share it held would sit unused (and
 * count against the namespace) until the reconciler found it: there admission stays one update.
 */
function admissionSharesFromEnv(env: NodeJS.ProcessEnv): { shares?: typeof DEFAULT_SHARE_SETTINGS } {
  const setting = env.SKYWHISK_ADMISSION_SHARES ?? (env.AWS_LAMBDA_FUNCTION_NAME ? 'false' : 'true');
  if (setting !== 'true' && setting !== 'false') throw new Error(`SKYWHISK_ADMISSION_SHARES must be true or false, not '${setting}'.`);
  const lifetimeMs = Number(env.SKYWHISK_ADMISSION_SHARE_MS ?? DEFAULT_SHARE_SETTINGS.lifetimeMs);
  if (!Number.isInteger(lifetimeMs) || lifetimeMs < 1 || lifetimeMs > 60_000) throw new Error(`SKYWHISK_ADMISSION_SHARE_MS must be a whole number of milliseconds from 1 to 60000, not '${env.SKYWHISK_ADMISSION_SHARE_MS}'.`);
  return setting === 'true' ? { shares: { ...DEFAULT_SHARE_SETTINGS, lifetimeMs } } : {};
}

/** The ECS waker when the invoker service is named (`SKYWHISK_INVOKER_CLUSTER`, `SKYWHISK_INVOKER_SERVICE`). */
export function fleetWakerFromEnv(env: NodeJS.ProcessEnv): FleetWaker | undefined {
  const cluster = env.SKYWHISK_INVOKER_CLUSTER;
  const service = env.SKYWHISK_INVOKER_SERVICE;
  if (!cluster || !service) return undefined;
  return new EcsFleetWaker(new ECSClient({}), { cluster, service }, pino({ name: 'fleet-waker', level: env.SKYWHISK_LOG_LEVEL ?? 'info' }));
}
