import type { Logger } from 'pino';
import { z } from 'zod';
import { SCHEDULED_FIRE_SOURCE } from './eventbridge-scheduler';
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
 * the store first (`recordFire`), so a retried or duplicated delivery fires at most once. A
 * malformed event is dropped and a failed fire is logged, never thrown back to Scheduler (a retry
 * would only find the claim); only a store that cannot be read or claimed in throws, so Scheduler
 * retries (RetryPolicy) a fire nobody has claimed yet.
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
  if (deleteAfterFire !== 'false') {
    // As LocalAlarmScheduler: only the version that fired goes (one redefined meanwhile stays), then
    // its schedule. The fire is claimed, so a failure here is logged rather than retried.
    try {
      if (await deps.repository.delete(namespace, trigger, { ifUpdated: alarm.updated })) await deps.scheduler.delete(namespace, trigger);
    } catch (error) {
      deps.log.error({ err: error, trigger: `/${namespace}/${trigger}` }, 'could not delete a fired once alarm');
    }
  }
  return 'fired';
}
