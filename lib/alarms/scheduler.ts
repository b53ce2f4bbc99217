import type { Logger } from 'pino';
import { nextFireTime, type DeleteAfterFire } from './spec';
import { alarmKey, type Alarm, type AlarmsRepository, type AlarmStatus } from './store';

export type { Alarm, AlarmStatus } from './store';
export { AlarmExistsError } from './store';

/**
 * Where alarms are kept and made to fire. The provider routes talk only to this seam.
 *
 * In AWS this becomes EventBridge Scheduler (one schedule per alarm, named after a hash of
 * `<namespace>/<trigger>`, targeting a function that fires the trigger with the payload):
 * - create    → CreateSchedule: `cron(...)` (EventBridge crons have no seconds field, so 6-field
 *               crons are refused there with `limitCronFields`), `rate(n minutes)` with StartDate,
 *               or `at(...)`; ScheduleExpressionTimezone, StartDate/EndDate from the spec; a once
 *               alarm with deleteAfterFire uses ActionAfterCompletion=DELETE.
 * - update    → UpdateSchedule with the new definition.
 * - setStatus → UpdateSchedule with State=DISABLED (paused) or ENABLED (active).
 * - delete    → DeleteSchedule.
 * - get       → the record kept in DynamoDB (AlarmsRepository), which READ reports.
 * The record stays the source of truth for READ; the schedule only does the firing.
 */
export interface AlarmScheduler {
  /** Refuse crons with a seconds field (EventBridge has none); absent where seconds work. */
  readonly limitCronFields?: boolean;
  /** Stores and arms a new alarm; an AlarmExistsError when the trigger already has one. */
  create(alarm: Alarm): Promise<void>;
  get(namespace: string, trigger: string): Promise<Alarm | undefined>;
  /** Replaces the definition of an existing alarm (keeping its fire history); false when there is none. */
  update(alarm: Alarm): Promise<boolean>;
  /** False when there was no alarm. */
  delete(namespace: string, trigger: string): Promise<boolean>;
  /** Pauses or resumes; the stored alarm after the change, undefined when there is none. */
  setStatus(namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined>;
}

/** What the fire callback learns besides the alarm. */
export interface AlarmFireContext {
  /** The time the fire was scheduled for (epoch ms); a past-due once alarm fires later than this. */
  scheduledTime: number;
  /**
   * A once alarm's `deleteAfterFire` ('false' for other feeds). The scheduler has already removed
   * the alarm itself when it is 'true' or 'rules' (after the callback returns or throws); deleting
   * the trigger ('true') or the trigger and its rules ('rules') is the callback's job.
   */
  deleteAfterFire: DeleteAfterFire;
}

/**
 * Fires the trigger of `alarm`: POST the trigger of `alarm.triggerNamespace/triggerName` with
 * `alarm.payload` as the body, as the subject `alarm.ownerUuid`. A rejection is logged; the alarm
 * keeps its schedule (there is no retry of that fire).
 */
export type AlarmFireCallback = (alarm: Alarm, context: AlarmFireContext) => Promise<void>;

/**
 * When an alarm is due next, from `now`: a once alarm that has not fired (at or after its date) is
 * due at its date even when that is past (so it fires at once); a recurring alarm is due at its
 * next tick from now on, so ticks missed while no scheduler ran are not replayed. Undefined when
 * paused or never again.
 */
export function dueTime(alarm: Pick<Alarm, 'spec' | 'status' | 'lastFired'>, now: number): number | undefined {
  if (alarm.status !== 'active') return undefined;
  if (alarm.spec.feed === 'once') return nextFireTime(alarm.spec, alarm.lastFired ?? -Infinity);
  return nextFireTime(alarm.spec, Math.max(alarm.lastFired ?? -Infinity, now - 1));
}

/**
 * What a fire of `alarm` scheduled at `scheduled` records as the next fire, and whether the alarm
 * is removed after it (a once alarm's `deleteAfterFire`). Shared by every scheduler.
 */
export function fireOf(alarm: Pick<Alarm, 'spec'>, scheduled: number): { next: number | undefined; deleteAfterFire: DeleteAfterFire } {
  if (alarm.spec.feed === 'once') return { next: undefined, deleteAfterFire: alarm.spec.deleteAfterFire };
  return { next: nextFireTime(alarm.spec, scheduled), deleteAfterFire: 'false' };
}

/**
 * Pauses or resumes the stored alarm (a new version, its next fire recomputed); the stored alarm
 * after the change, undefined when there is none. Shared by every scheduler's setStatus.
 */
export async function storeStatus(repository: AlarmsRepository, namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined> {
  const existing = await repository.get(namespace, trigger);
  if (!existing) return undefined;
  const changed: Alarm = { ...existing, status, updated: Math.max(Date.now(), existing.updated + 1) };
  return repository.update({ ...changed, nextFire: dueTime(changed, Date.now()) });
}

/** setTimeout keeps delays in a signed 32-bit int; longer waits are taken in steps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LocalAlarmSchedulerOptions {
  /** How often the store is read again for alarms changed by other processes (default 30 s). */
  refreshIntervalMs?: number;
}

interface Armed {
  alarm: Alarm;
  due: number;
  timer?: NodeJS.Timeout;
}

function sameVersion(a: Alarm, b: Alarm): boolean {
  return a.updated === b.updated && a.status === b.status && a.lastFired === b.lastFired;
}

/**
 * The local scheduler: alarms persist in AlarmsRepository and fire from timers in this process.
 * Before `start` (and after `stop`) it only reads and writes the store. Every fire is claimed in
 * the store first (AlarmsRepository.recordFire), so two schedulers on one store never fire the
 * same tick twice.
 */
export class LocalAlarmScheduler implements AlarmScheduler {
  private readonly refreshIntervalMs: number;
  private fire: AlarmFireCallback | undefined;
  private readonly armed = new Map<string, Armed>();
  private readonly running = new Set<Promise<void>>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** Local changes by key, numbered, so a refresh does not undo a change made while it read. */
  private changeCount = 0;
  private readonly changedAt = new Map<string, number>();

  constructor(
    private readonly repository: AlarmsRepository,
    private readonly log: Logger,
    options: LocalAlarmSchedulerOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
  }

  /** Loads every alarm and arms the active ones; then re-reads the store periodically. */
  async start(fire: AlarmFireCallback): Promise<void> {
    if (this.fire) throw new Error('the alarm scheduler is already started');
    this.fire = fire;
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.refreshIntervalMs);
    this.refreshTimer.unref();
  }

  /** Disarms every timer and waits for fires in progress. */
  async stop(): Promise<void> {
    this.fire = undefined;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
    for (const key of [...this.armed.keys()]) this.disarm(key);
    await this.refreshing;
    await Promise.allSettled([...this.running]);
  }

  /** Keys of the alarms with a timer, and when they are due (for status and tests). */
  armedAlarms(): Array<{ key: string; due: number }> {
    return [...this.armed.entries()].map(([key, armed]) => ({ key, due: armed.due }));
  }

  async create(alarm: Alarm): Promise<void> {
    const record: Alarm = { ...alarm, nextFire: dueTime(alarm, Date.now()) };
    await this.repository.put(record, { ifAbsent: true });
    this.touch(record);
    this.arm(record);
  }

  get(namespace: string, trigger: string): Promise<Alarm | undefined> {
    return this.repository.get(namespace, trigger);
  }

  async update(alarm: Alarm): Promise<boolean> {
    const stored = await this.repository.update({ ...alarm, nextFire: dueTime(alarm, Date.now()) });
    if (!stored) return false;
    this.touch(stored);
    this.arm(stored);
    return true;
  }

  async delete(namespace: string, trigger: string): Promise<boolean> {
    const deleted = await this.repository.delete(namespace, trigger);
    this.changedAt.set(alarmKey(namespace, trigger), ++this.changeCount);
    this.disarm(alarmKey(namespace, trigger));
    return deleted;
  }

  async setStatus(namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined> {
    const stored = await storeStatus(this.repository, namespace, trigger, status);
    if (!stored) return undefined;
    this.touch(stored);
    this.arm(stored);
    return stored;
  }

  private touch(alarm: Alarm): void {
    this.changedAt.set(alarmKey(alarm.triggerNamespace, alarm.triggerName), ++this.changeCount);
  }

  private disarm(key: string): void {
    const armed = this.armed.get(key);
    if (armed?.timer) clearTimeout(armed.timer);
    this.armed.delete(key);
  }

  /** (Re)arms the timer of `alarm` for its due time; none when paused, never due again, or not started. */
  private arm(alarm: Alarm): void {
    const key = alarmKey(alarm.triggerNamespace, alarm.triggerName);
    this.disarm(key);
    if (!this.fire) return;
    const due = dueTime(alarm, Date.now());
    if (due === undefined) return;
    const armed: Armed = { alarm, due };
    const wait = () => {
      armed.timer = setTimeout(
        () => {
          if (this.armed.get(key) !== armed) return;
          // A long wait is taken in steps; a timer may also wake a millisecond early.
          if (Date.now() < due) return wait();
          this.armed.delete(key);
          this.track(this.fireAlarm(alarm, due));
        },
        Math.min(Math.max(0, due - Date.now()), MAX_TIMER_MS),
      );
      armed.timer.unref();
    };
    this.armed.set(key, armed);
    wait();
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async fireAlarm(alarm: Alarm, scheduled: number): Promise<void> {
    const fire = this.fire;
    if (!fire) return;
    const key = alarmKey(alarm.triggerNamespace, alarm.triggerName);
    // A refresh that read the store before the claim must not arm this tick again.
    this.touch(alarm);
    const { next, deleteAfterFire } = fireOf(alarm, scheduled);
    let claimed: boolean;
    try {
      claimed = await this.repository.recordFire(alarm, scheduled, next);
    } catch (error) {
      // The store is unreachable: the next refresh arms the alarm again.
      this.log.error({ err: error, alarm: key }, 'could not record an alarm fire; it is retried after the next refresh');
      return;
    }
    if (!claimed) {
      // Changed, paused, deleted or fired by another scheduler since it was armed: arm what is stored.
      try {
        const current = await this.repository.get(alarm.triggerNamespace, alarm.triggerName);
        this.touch(alarm);
        if (current) this.arm(current);
      } catch (error) {
        this.log.warn({ err: error, alarm: key }, 'could not read an alarm back after a lost fire claim');
      }
      return;
    }
    const fired: Alarm = { ...alarm, lastFired: scheduled, nextFire: next };
    this.touch(fired);
    // The next tick is armed before the callback runs, so a slow fire does not delay it.
    this.arm(fired);
    try {
      await fire(fired, { scheduledTime: scheduled, deleteAfterFire });
    } catch (error) {
      this.log.error({ err: error, alarm: key, scheduled }, 'alarm fire failed');
    }
    if (deleteAfterFire !== 'false') {
      try {
        await this.repository.delete(alarm.triggerNamespace, alarm.triggerName, { ifUpdated: alarm.updated });
        this.touch(alarm);
      } catch (error) {
        this.log.error({ err: error, alarm: key }, 'could not delete a fired once alarm');
      }
    }
  }

  /** Reads every alarm and brings the timers in line with the store. */
  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const since = this.changeCount;
      try {
        const alarms = await this.repository.list();
        if (!this.fire) return;
        const changedLocally = (key: string) => (this.changedAt.get(key) ?? 0) > since;
        const seen = new Set<string>();
        for (const alarm of alarms) {
          const key = alarmKey(alarm.triggerNamespace, alarm.triggerName);
          seen.add(key);
          if (changedLocally(key)) continue;
          const armed = this.armed.get(key);
          if (armed && sameVersion(armed.alarm, alarm)) continue;
          this.arm(alarm);
        }
        for (const key of [...this.armed.keys()]) {
          if (!seen.has(key) && !changedLocally(key)) this.disarm(key);
        }
        // Forget local changes older than this read; the store now reflects them.
        for (const [key, at] of this.changedAt) if (at <= since) this.changedAt.delete(key);
      } catch (error) {
        this.log.warn({ err: error }, 'could not read the alarms; the timers keep their last known schedule');
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
