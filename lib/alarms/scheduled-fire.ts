import type { Logger } from 'pino';
import { z } from 'zod';
import { SCHEDULED_FIRE_SOURCE } from './eventbridge';
import { fireOf, type AlarmFireCallback, type AlarmScheduler } from './scheduler';
import type { AlarmsRepository } from './store';

const scheduledFireSchema = z.object({
  source: z.literal(SCHEDULED_FIRE_SOURCE),
  namespace: z.string().min(1),
  trigger: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
});

export interface ScheduledFireDeps {
  repository: AlarmsRepository;
  /** Removes fired once alarms (record and schedule). */
  scheduler: AlarmScheduler;
  fire: AlarmFireCallback;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export type ScheduledFireOutcome = 'fired' | 'dropped' | 'absent' | 'paused' | 'duplicate';

/**
 * What EventBridge Scheduler's invocation of the alarm-fire function does. The fire is claimed in
 * the store first (`recordFire`), so a retried or duplicated delivery fires at most once. Nothing is
 * thrown back to Scheduler: a malformed event is dropped, and a failed fire is logged (a retry
 * would only find the claim).
 */
export async function onScheduledFire(event: unknown, deps: ScheduledFireDeps): Promise<ScheduledFireOutcome> {
  const parsed = scheduledFireSchema.safeParse(event);
  if (!parsed.success) {
    deps.log.warn({ event }, 'not an alarm fire event; dropped');
    return 'dropped';
  }
  const { namespace, trigger, scheduledTime } = parsed.data;
  const alarm = await deps.repository.get(namespace, trigger);
  if (!alarm) return 'absent';
  if (alarm.status !== 'active') return 'paused';
  const scheduled = Date.parse(scheduledTime);
  const { next, deleteAfterFire } = fireOf(alarm, scheduled);
  if (!(await deps.repository.recordFire(alarm, scheduled, next))) return 'duplicate';
  try {
    await deps.fire({ ...alarm, lastFired: scheduled, nextFire: next }, { scheduledTime: scheduled, deleteAfterFire });
  } catch (error) {
    deps.log.error({ err: error, trigger: `/${namespace}/${trigger}`, scheduled }, 'alarm fire failed');
  }
  if (deleteAfterFire !== 'false') await deps.scheduler.delete(namespace, trigger);
  return 'fired';
}
