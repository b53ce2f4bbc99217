import { DescribeServicesCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { InvocationQueue } from '../bus/invocation-queue';
import type { InvokerRegistry } from '../store/invoker-registry';

export interface FleetSleeperDeps {
  ecs: Pick<ECSClient, 'send'>;
  cluster: string;
  service: string;
  /** The count the fleet goes back to when idle (the service's minimum). */
  minTasks: number;
  /** The invocation queue: a message waiting there needs an invoker. */
  queue: Pick<InvocationQueue, 'isEmpty'>;
  /** The invokers' own reports: one with work in its slots is busy, whatever the metrics say yet. */
  registry: Pick<InvokerRegistry, 'holdingLease'>;
  log: Pick<Logger, 'info' | 'warn'>;
}

/** What a look at an idle fleet ended in. */
export type SleepOutcome = 'scaled in' | 'at minimum' | 'starting' | 'queue not empty' | 'invokers busy' | 'service not found';

/**
 * Brings an idle invoker fleet back to its minimum, once, when the idle alarm enters ALARM (an
 * EventBridge rule on its state change runs this). An alarm's own scaling action would be run
 * again every minute while the alarm stays in ALARM, and so would undo a wake of the fleet before
 * the woken invoker's first metrics got the alarm out of it: this runs on the change only.
 *
 * The alarm's metrics lag by a minute or more, so this looks at the fleet itself first and leaves
 * it alone while tasks are starting (a wake or a scale-out in progress), while the queue holds a
 * message, or while an invoker reports activations in flight.
 */
export async function sleepIdleFleet(deps: FleetSleeperDeps): Promise<SleepOutcome> {
  const { ecs, cluster, service, minTasks, log } = deps;
  const described = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const current = described.services?.[0];
  if (current?.desiredCount === undefined) {
    log.warn({ cluster, service }, 'invoker service not found; nothing scaled in');
    return 'service not found';
  }
  const { desiredCount: desired, runningCount: running = 0, pendingCount: pending = 0 } = current;
  if (desired <= minTasks) return 'at minimum';
  if (pending > 0 || running < desired) {
    log.info({ desired, running, pending }, 'invoker tasks are starting (a wake or a scale-out); not scaled in');
    return 'starting';
  }
  if (!(await deps.queue.isEmpty())) {
    log.info('the invocation queue holds messages; not scaled in');
    return 'queue not empty';
  }
  const busy = (await deps.registry.holdingLease()).filter((invoker) => invoker.status !== 'offline' && invoker.inFlight > 0);
  if (busy.length) {
    log.info({ invokers: busy.map((invoker) => invoker.id) }, 'invokers report activations in flight; not scaled in');
    return 'invokers busy';
  }
  await ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: minTasks }));
  log.info({ from: desired, to: minTasks }, 'the invoker fleet was idle; scaled in to its minimum');
  return 'scaled in';
}

/** Whether an EventBridge event is a CloudWatch alarm's change into ALARM (what the rule sends). */
export function isAlarmEntered(event: unknown): boolean {
  return ALARM_ENTERED.safeParse(event).success;
}

const ALARM_ENTERED = z.object({ source: z.literal('aws.cloudwatch'), detail: z.object({ state: z.object({ value: z.literal('ALARM') }) }) });

const SLEEPER_SETTINGS = z.object({
  SKYWHISK_INVOKER_CLUSTER: z.string().min(1),
  SKYWHISK_INVOKER_SERVICE: z.string().min(1),
  SKYWHISK_FLEET_MIN_TASKS: z.coerce.number().int().min(0),
});

/** The sleeper's settings from its environment; every missing or bad one named in the error. */
export function sleeperSettingsFromEnv(env: NodeJS.ProcessEnv): { cluster: string; service: string; minTasks: number } {
  const parsed = SLEEPER_SETTINGS.safeParse(env);
  if (!parsed.success) throw new Error(`fleet sleeper settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return { cluster: parsed.data.SKYWHISK_INVOKER_CLUSTER, service: parsed.data.SKYWHISK_INVOKER_SERVICE, minTasks: parsed.data.SKYWHISK_FLEET_MIN_TASKS };
}
