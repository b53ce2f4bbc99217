import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { CronExpressionParser } from 'cron-parser';
import { WhiskError } from '../model/errors';
import type { AlarmScheduler, AlarmStatus } from './scheduler';
import { dueTime, storeStatus } from './scheduler';
import { nextFireTime, type AlarmSpec, type CronSpec } from './spec';
import type { Alarm, AlarmsRepository } from './store';

/** What a schedule sends its target; `scheduledTime` is filled in by EventBridge Scheduler. */
export const SCHEDULED_FIRE_SOURCE = 'skywhisk.alarm';

/** The context attribute EventBridge Scheduler replaces with the time the invocation was scheduled for. */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** Scheduler refuses longer schedule expressions. */
const MAX_EXPRESSION_LENGTH = 256;

/** A once alarm resumed (or redefined) after its date fires this long after the change, as `at(...)` must not be past. */
export const PAST_DUE_DELAY_MS = 60_000;

export interface EventBridgeAlarmSchedulerOptions {
  repository: AlarmsRepository;
  scheduler: SchedulerClient;
  /** The schedule group every alarm's schedule is made in. */
  groupName: string;
  /** The function that fires triggers (functions/alarm-fire). */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
}

/** One schedule per alarm, named from a hash of `<namespace>/<trigger>` (schedule names allow 64 of [0-9a-zA-Z-_.]). */
export function scheduleName(namespace: string, trigger: string): string {
  return `alarm-${createHash('sha256').update(`${namespace}/${trigger}`).digest('hex').slice(0, 48)}`;
}

function cannotExpress(cron: string, what: string): never {
  throw new WhiskError(400, `cron pattern '${cron}' has ${what} EventBridge cannot express`);
}

/**
 * The values of one numeric field in EventBridge's syntax: `*` for all, a single value, `a-b` for a
 * run, `a/n` for every n-th value from a to the end of the field (EventBridge's increments), else a
 * list (a step that stops before the end, such as `9-17/2`, is written out).
 */
function fieldExpression(values: readonly number[], min: number, max: number): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  if (sorted.length === max - min + 1) return '*';
  if (sorted.length === 1) return String(sorted[0]);
  const step = sorted[1] - sorted[0];
  const last = sorted[sorted.length - 1];
  if (sorted.length >= 3 && sorted.every((value, index) => value === sorted[0] + index * step)) {
    if (step === 1) return `${sorted[0]}-${last}`;
    if (last + step > max) return `${sorted[0]}/${step}`;
  }
  return sorted.join(',');
}

function numbers(values: readonly (number | string)[], cron: string, what: string): number[] {
  return values.map((value) => (typeof value === 'number' ? value : cannotExpress(cron, what)));
}

/**
 * A 5-field cron (or 6 with seconds `0`, already limited by the routes) as EventBridge's 6-field
 * `cron(min hour day-of-month month day-of-week year)`. The fields are read by cron-parser, as
 * `nextFireTime` reads them, so both fire at the same minutes: ranges, lists, steps and names come
 * out as EventBridge writes them. EventBridge wants `?` in one of the two day fields and numbers
 * days of the week 1 (Sunday) to 7. Refused with a 400: seconds, a cron restricting both day fields
 * (Unix cron fires when either matches; EventBridge cannot say "or"), `#` (nth weekday), `H`, and
 * `L` inside a list.
 */
export function eventBridgeCron(spec: Pick<CronSpec, 'cron'>): string {
  const cron = spec.cron;
  let fields = cron.trim().split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== '0') throw new WhiskError(400, `cron pattern '${cron}' has seconds, which EventBridge cannot express`);
    fields = fields.slice(1);
  }
  if (fields.length !== 5) throw new WhiskError(400, `cron pattern '${cron}' is not valid`);
  // cron-parser's hashed values (`H`, `H(0-29)`, `H/15`) are its own; THU merely contains an H.
  if (fields.some((field) => /(^|[,/-])H(?![A-Z])/i.test(field))) cannotExpress(cron, 'a hashed value (H), which');
  let parsed: ReturnType<typeof CronExpressionParser.parse>['fields'];
  try {
    parsed = CronExpressionParser.parse(fields.join(' ')).fields;
  } catch {
    throw new WhiskError(400, `cron pattern '${cron}' is not valid`);
  }
  const minute = fieldExpression(parsed.minute.values, 0, 59);
  const hour = fieldExpression(parsed.hour.values, 0, 23);
  const month = fieldExpression(parsed.month.values, 1, 12);
  const anyDayOfMonth = parsed.dayOfMonth.isWildcard;
  const anyDayOfWeek = parsed.dayOfWeek.isWildcard;
  let dom: string;
  let dow: string;
  if (!anyDayOfMonth && !anyDayOfWeek) {
    throw new WhiskError(400, `cron pattern '${cron}' restricts both day of month and day of week, which EventBridge cannot express`);
  } else if (anyDayOfWeek) {
    const days = parsed.dayOfMonth.values;
    if (days.includes('L')) {
      if (days.length > 1) cannotExpress(cron, 'a day of month');
      dom = 'L';
    } else {
      dom = fieldExpression(numbers(days, cron, 'a day of month'), 1, 31);
    }
    dow = '?';
  } else {
    dom = '?';
    if (parsed.dayOfWeek.nthDay > 0) cannotExpress(cron, 'a day of week');
    const days: readonly (number | string)[] = parsed.dayOfWeek.values;
    const last = days.find((day) => typeof day === 'string');
    if (last !== undefined) {
      // `5L`, the last Friday of the month, is `6L` in EventBridge.
      const match = /^([0-7])L$/.exec(String(last));
      if (!match || days.length > 1) cannotExpress(cron, 'a day of week');
      dow = `${(Number(match[1]) % 7) + 1}L`;
    } else {
      const sunday1 = [...new Set(numbers(days, cron, 'a day of week').map((day) => (day % 7) + 1))].sort((a, b) => a - b);
      dow = sunday1.length === 7 ? '*' : sunday1.join(',');
    }
  }
  const expression = `cron(${minute} ${hour} ${dom} ${month} ${dow} *)`;
  if (expression.length > MAX_EXPRESSION_LENGTH) cannotExpress(cron, `more values than`);
  return expression;
}

/** `at(...)` wants a local date-time without zone; the schedule's zone is UTC. */
function atExpression(epochMs: number): string {
  return `at(${new Date(epochMs).toISOString().slice(0, 19)})`;
}

type ScheduleParts = Pick<CreateScheduleCommandInput, 'ScheduleExpression' | 'ScheduleExpressionTimezone' | 'StartDate' | 'EndDate' | 'ActionAfterCompletion'>;

/** The schedule of a spec as defined: expression, zone and the window it may fire in (a start date already past is left out). */
export function scheduleOf(spec: AlarmSpec, now = Date.now()): ScheduleParts {
  switch (spec.feed) {
    case 'alarm':
      return {
        ScheduleExpression: eventBridgeCron(spec),
        ScheduleExpressionTimezone: spec.timezone ?? 'UTC',
        // Scheduler refuses a start date in the past; one in the past means "already started".
        ...(spec.startDate !== undefined && spec.startDate > now ? { StartDate: new Date(spec.startDate) } : {}),
        ...(spec.stopDate !== undefined ? { EndDate: new Date(spec.stopDate) } : {}),
      };
    case 'interval':
      return {
        ScheduleExpression: `rate(${spec.minutes} ${spec.minutes === 1 ? 'minute' : 'minutes'})`,
        ScheduleExpressionTimezone: 'UTC',
        ...(spec.startDate > now ? { StartDate: new Date(spec.startDate) } : {}),
        ...(spec.stopDate !== undefined ? { EndDate: new Date(spec.stopDate) } : {}),
      };
    case 'once':
      // A one-time schedule is removed by Scheduler once it has fired; the record stays for READ.
      return { ScheduleExpression: atExpression(spec.date), ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE' };
  }
}

/**
 * What to ask Scheduler for, for `alarm` as stored at `now`; undefined when it never fires again
 * (a once alarm that fired, a schedule past its stop date), so no schedule should exist.
 *
 * Unlike `scheduleOf` this keeps the alarm's timing when it is armed again later (a resume or an
 * update after the start date): a rate schedule without StartDate fires at once and counts from
 * then, so an interval starts at its next tick from `startDate`; a once alarm whose date passed
 * while it was paused fires shortly (as LocalAlarmScheduler fires it at once). A schedule that
 * ends (once, or with an EndDate) is deleted by Scheduler after its last invocation.
 */
export function scheduleFor(alarm: Pick<Alarm, 'spec' | 'lastFired'>, now = Date.now()): ScheduleParts | undefined {
  const { spec } = alarm;
  if (spec.feed === 'once') {
    if (alarm.lastFired !== undefined) return undefined;
    return { ...scheduleOf(spec, now), ...(spec.date > now ? {} : { ScheduleExpression: atExpression(now + PAST_DUE_DELAY_MS) }) };
  }
  const next = nextFireTime(spec, now);
  if (next === undefined) return undefined;
  const parts = scheduleOf(spec, now);
  return {
    ...parts,
    ...(spec.feed === 'interval' ? { StartDate: new Date(next) } : {}),
    ...(parts.EndDate ? { ActionAfterCompletion: 'DELETE' } : {}),
  };
}

/** A ValidationException from Scheduler is the caller's definition it refused: a 400 naming why. */
function refused(error: unknown): unknown {
  return error instanceof ValidationException ? new WhiskError(400, `EventBridge Scheduler refused the schedule: ${error.message}`) : error;
}

/**
 * The alarms feed on AWS: the record stays in DynamoDB (AlarmsRepository, which READ reports and
 * which claims each fire), and one EventBridge Scheduler schedule per alarm does the firing, by
 * invoking the alarm-fire function with the trigger and the scheduled time
 * (lib/alarms/scheduled-fire.ts).
 */
export class EventBridgeAlarmScheduler implements AlarmScheduler {
  /** EventBridge crons have minutes as their finest field. */
  readonly limitCronFields = true;

  constructor(private readonly options: EventBridgeAlarmSchedulerOptions) {}

  async create(alarm: Alarm): Promise<void> {
    const { repository, scheduler } = this.options;
    const record: Alarm = { ...alarm, nextFire: dueTime(alarm, Date.now()) };
    // A spec EventBridge cannot express is refused (400) before anything is written.
    const input = this.scheduleInput(record);
    await repository.put(record, { ifAbsent: true });
    if (!input) return;
    try {
      try {
        await scheduler.send(new CreateScheduleCommand(input));
      } catch (error) {
        // The record was absent, so a schedule of that name is a leftover: it takes the new definition.
        if (!(error instanceof ConflictException)) throw error;
        await scheduler.send(new UpdateScheduleCommand(input));
      }
    } catch (error) {
      // Nothing half-made: without its schedule the alarm would never fire.
      await repository.delete(alarm.triggerNamespace, alarm.triggerName, { ifUpdated: record.updated });
      throw refused(error);
    }
  }

  get(namespace: string, trigger: string): Promise<Alarm | undefined> {
    return this.options.repository.get(namespace, trigger);
  }

  async update(alarm: Alarm): Promise<boolean> {
    // Built only to refuse (400) a definition EventBridge cannot express before the record changes.
    this.scheduleInput(alarm);
    const stored = await this.options.repository.update({ ...alarm, nextFire: dueTime(alarm, Date.now()) });
    if (!stored) return false;
    await this.putSchedule(stored);
    return true;
  }

  async delete(namespace: string, trigger: string): Promise<boolean> {
    await this.deleteSchedule(namespace, trigger);
    return this.options.repository.delete(namespace, trigger);
  }

  async setStatus(namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined> {
    const stored = await storeStatus(this.options.repository, namespace, trigger, status);
    if (!stored) return undefined;
    await this.putSchedule(stored);
    return stored;
  }

  private async deleteSchedule(namespace: string, trigger: string): Promise<void> {
    try {
      await this.options.scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(namespace, trigger), GroupName: this.options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }

  /**
   * UpdateSchedule takes the whole definition, rebuilt from the record. A schedule Scheduler has
   * already removed (a completed one) is made again; an alarm that never fires again has none.
   */
  private async putSchedule(alarm: Alarm): Promise<void> {
    const input = this.scheduleInput(alarm);
    if (!input) return this.deleteSchedule(alarm.triggerNamespace, alarm.triggerName);
    try {
      try {
        await this.options.scheduler.send(new UpdateScheduleCommand(input));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
        await this.options.scheduler.send(new CreateScheduleCommand(input));
      }
    } catch (error) {
      throw refused(error);
    }
  }

  /** The full definition of the alarm's schedule; undefined when it never fires again. */
  private scheduleInput(alarm: Alarm): CreateScheduleCommandInput | undefined {
    const { triggerNamespace: namespace, triggerName: trigger } = alarm;
    const schedule = scheduleFor(alarm);
    if (!schedule) return undefined;
    return {
      Name: scheduleName(namespace, trigger),
      GroupName: this.options.groupName,
      Description: `Skywhisk alarm of /${namespace}/${trigger}`.slice(0, 512),
      ...schedule,
      State: alarm.status === 'active' ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({ source: SCHEDULED_FIRE_SOURCE, namespace, trigger, scheduledTime: SCHEDULED_TIME_PLACEHOLDER }),
        // A fire is claimed in the store, so a retried delivery never fires twice.
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    };
  }
}

/**
 * The EventBridge scheduler when the deployment names its group, target and role
 * (`SKYWHISK_ALARM_SCHEDULE_GROUP`, `SKYWHISK_ALARM_TARGET_ARN`, `SKYWHISK_ALARM_ROLE_ARN`); else
 * undefined (no alarms feed). `targetArn` stands in for a missing target: the fire function passes
 * its own ARN, which its environment cannot hold (that would be a cycle).
 */
export function alarmSchedulerFromEnv(env: NodeJS.ProcessEnv, repository: AlarmsRepository, targetArn?: string): EventBridgeAlarmScheduler | undefined {
  const groupName = env.SKYWHISK_ALARM_SCHEDULE_GROUP;
  const target = env.SKYWHISK_ALARM_TARGET_ARN ?? targetArn;
  const roleArn = env.SKYWHISK_ALARM_ROLE_ARN;
  if (!groupName || !target || !roleArn) return undefined;
  return new EventBridgeAlarmScheduler({ repository, scheduler: new SchedulerClient({}), groupName, targetArn: target, roleArn });
}
