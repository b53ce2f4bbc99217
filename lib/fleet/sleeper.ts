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
  /** How long every invoker must have started nothing (and have lived) before the fleet is idle. */
  idleMs: number;
  /** The invocation queue: a message waiting there needs an invoker. */
  queue: Pick<InvocationQueue, 'isEmpty'>;
  /** The invokers' own heartbeats: in flight now, when each last started an activation, and when it started. */
  registry: Pick<InvokerRegistry, 'holdingLease'>;
  log: Pick<Logger, 'info' | 'warn'>;
  now?: () => number;
}

/** What a look at the fleet ended in. */
export type SleepOutcome = 'scaled in' | 'at minimum' | 'starting' | 'queue not empty' | 'invokers busy' | 'recently active' | 'service not found';

/**
 * Brings an idle invoker fleet back to its minimum. It runs when the idle alarm enters ALARM (an
 * EventBridge rule on the change) and every few minutes (a schedule), so a look that found the
 * fleet busy is repeated until it is idle; the decision is taken here from exact data, not from the
 * alarm. An alarm's own scaling action would instead run every minute the alarm stays in ALARM and
 * undo a wake before the woken invoker's metrics got the alarm out of it.
 *
 * The fleet is idle when its service runs a task (none running while one is wanted is a wake from
 * zero on its way), the queue is empty, and every invoker within its lease (silent ones too) has
 * nothing in flight and has neither started an activation nor been started itself within
 * `idleMs`: a woken or added invoker gets that long once it has registered (until then the
 * message that woke it keeps the queue from being empty).
 */
export async function sleepIdleFleet(deps: FleetSleeperDeps): Promise<SleepOutcome> {
  const { ecs, cluster, service, minTasks, log } = deps;
  const now = (deps.now ?? Date.now)();
  const described = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const current = described.services?.[0];
  if (current?.desiredCount === undefined) {
    log.warn({ cluster, service }, 'invoker service not found; nothing scaled in');
    return 'service not found';
  }
  const { desiredCount: desired, runningCount: running = 0 } = current;
  if (desired <= minTasks) return 'at minimum';
  if (running === 0) {
    log.info({ desired }, 'invoker tasks are starting and none runs yet (a wake); not scaled in');
    return 'starting';
  }
  if (!(await deps.queue.isEmpty())) {
    log.info('the invocation queue holds messages; not scaled in');
    return 'queue not empty';
  }
  // Every invoker within its lease, silent ones too: a stalled process may still be running what it
  // took (a direct dispatch leaves no trace in the queue), and a wrong "busy" costs only a later look.
  const live = await deps.registry.holdingLease();
  const busy = live.filter((invoker) => invoker.inFlight > 0);
  if (busy.length) {
    log.info({ invokers: busy.map((invoker) => invoker.id) }, 'invokers report activations in flight; not scaled in');
    return 'invokers busy';
  }
  const recent = live.filter((invoker) => Math.max(invoker.startedAt, invoker.lastStartedAt ?? 0) > now - deps.idleMs);
  if (recent.length) return 'recently active';
  await ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount: minTasks }));
  log.info({ from: desired, to: minTasks }, 'the invoker fleet was idle; scaled in to its minimum');
  return 'scaled in';
}

/** Whether an EventBridge event is one the sleeper acts on: the idle alarm entering ALARM, or its schedule. */
export function isSleeperEvent(event: unknown): boolean {
  return ALARM_ENTERED.safeParse(event).success || SCHEDULED.safeParse(event).success;
}

const ALARM_ENTERED = z.object({ source: z.literal('aws.cloudwatch'), detail: z.object({ state: z.object({ value: z.literal('ALARM') }) }) });
const SCHEDULED = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });

const SLEEPER_SETTINGS = z.object({
  SKYWHISK_INVOKER_CLUSTER: z.string().min(1),
  SKYWHISK_INVOKER_SERVICE: z.string().min(1),
  SKYWHISK_FLEET_MIN_TASKS: z.coerce.number().int().min(0),
  SKYWHISK_FLEET_IDLE_MINUTES: z.coerce.number().int().min(1),
});

/** The sleeper's settings from its environment; every missing or bad one named in the error. */
export function sleeperSettingsFromEnv(env: NodeJS.ProcessEnv): { cluster: string; service: string; minTasks: number; idleMs: number } {
  const parsed = SLEEPER_SETTINGS.safeParse(env);
  if (!parsed.success) throw new Error(`fleet sleeper settings: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return { cluster: parsed.data.SKYWHISK_INVOKER_CLUSTER, service: parsed.data.SKYWHISK_INVOKER_SERVICE, minTasks: parsed.data.SKYWHISK_FLEET_MIN_TASKS, idleMs: parsed.data.SKYWHISK_FLEET_IDLE_MINUTES * 60_000 };
}
