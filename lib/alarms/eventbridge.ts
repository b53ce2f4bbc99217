import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { WhiskError } from '../model/errors';
import type { AlarmScheduler, AlarmStatus } from './scheduler';
import { dueTime } from './scheduler';
import type { CronSpec, AlarmSpec } from './spec';
import type { Alarm, AlarmsRepository } from './store';

/** What a schedule sends its target; `scheduledTime` is filled in by EventBridge Scheduler. */
export const SCHEDULED_FIRE_SOURCE = 'skywhisk.alarm';

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

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Every value a 5-field cron's day-of-week field names, as 0 (Sunday) to 6. */
function daysOfWeek(field: string, cron: string): number[] {
  const days = new Set<number>();
  const value = (text: string) => {
    const index = DAY_NAMES.indexOf(text.toUpperCase());
    const number = index >= 0 ? index : Number(text);
    if (!Number.isInteger(number) || number < 0 || number > 7) throw new WhiskError(400, `cron pattern '${cron}' has a day of week EventBridge cannot express`);
    return number;
  };
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new WhiskError(400, `cron pattern '${cron}' has a day of week EventBridge cannot express`);
    const [from, to] = range === '*' ? [0, 6] : range.includes('-') ? range.split('-').map(value) : [value(range), stepText === undefined ? value(range) : 6];
    for (let day = from; day <= to; day += step) days.add(day % 7);
  }
  return [...days].sort((a, b) => a - b);
}

/** `*\/n` becomes `<first>/n`, as EventBridge's cron wants increments written. */
function increments(field: string, first: number): string {
  return field.replace(/^\*\//, `${first}/`);
}

/**
 * A 5-field cron (or 6 with seconds `0`, already limited by the routes) as EventBridge's 6-field
 * `cron(min hour day-of-month month day-of-week year)`. EventBridge wants `?` in one of the two day
 * fields and numbers days of the week 1 (Sunday) to 7; a cron restricting both day fields (Unix cron
 * fires when either matches) cannot be expressed and is refused with a 400.
 */
export function eventBridgeCron(spec: Pick<CronSpec, 'cron'>): string {
  let fields = spec.cron.trim().split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== '0') throw new WhiskError(400, `cron pattern '${spec.cron}' has seconds, which EventBridge cannot express`);
    fields = fields.slice(1);
  }
  if (fields.length !== 5) throw new WhiskError(400, `cron pattern '${spec.cron}' is not valid`);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields;
  const anyDay = (field: string) => field === '*' || field === '?';
  let dom: string;
  let dow: string;
  if (anyDay(dayOfWeek)) {
    dom = anyDay(dayOfMonth) ? '*' : increments(dayOfMonth, 1);
    dow = '?';
  } else if (anyDay(dayOfMonth)) {
    dom = '?';
    const days = daysOfWeek(dayOfWeek, spec.cron);
    dow = days.length === 7 ? '*' : days.map((day) => day + 1).join(',');
  } else {
    throw new WhiskError(400, `cron pattern '${spec.cron}' restricts both day of month and day of week, which EventBridge cannot express`);
  }
  return `cron(${increments(minute, 0)} ${increments(hour, 0)} ${dom} ${increments(month, 1)} ${dow} *)`;
}

/** `at(...)` wants a local date-time without zone; the schedule's zone is UTC. */
function atExpression(epochMs: number): string {
  return `at(${new Date(epochMs).toISOString().slice(0, 19)})`;
}

/** The schedule of a spec: expression, zone and the window it may fire in. */
export function scheduleOf(spec: AlarmSpec, now = Date.now()): Pick<CreateScheduleCommandInput, 'ScheduleExpression' | 'ScheduleExpressionTimezone' | 'StartDate' | 'EndDate' | 'ActionAfterCompletion'> {
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
 * The alarms feed on AWS: the record stays in DynamoDB (AlarmsRepository, which READ reports and
 * which claims each fire), and one EventBridge Scheduler schedule per alarm does the firing, by
 * invoking the alarm-fire function with the trigger and the scheduled time.
 */
export class EventBridgeAlarmScheduler implements AlarmScheduler {
  /** EventBridge crons have minutes as their finest field. */
  readonly limitCronFields = true;

  constructor(private readonly options: EventBridgeAlarmSchedulerOptions) {}

  async create(alarm: Alarm): Promise<void> {
    const { repository } = this.options;
    const record: Alarm = { ...alarm, nextFire: dueTime(alarm, Date.now()) };
    // A spec EventBridge cannot express is refused (400) before anything is written.
    const input = this.scheduleInput(record);
    await repository.put(record, { ifAbsent: true });
    try {
      await this.options.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      // Nothing half-made: without its schedule the alarm would never fire.
      await repository.delete(alarm.triggerNamespace, alarm.triggerName, { ifUpdated: record.updated });
      throw error;
    }
  }

  get(namespace: string, trigger: string): Promise<Alarm | undefined> {
    return this.options.repository.get(namespace, trigger);
  }

  async update(alarm: Alarm): Promise<boolean> {
    this.scheduleInput(alarm);
    const stored = await this.options.repository.update({ ...alarm, nextFire: dueTime(alarm, Date.now()) });
    if (!stored) return false;
    await this.putSchedule(stored);
    return true;
  }

  async delete(namespace: string, trigger: string): Promise<boolean> {
    try {
      await this.options.scheduler.send(new DeleteScheduleCommand({ Name: scheduleName(namespace, trigger), GroupName: this.options.groupName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    return this.options.repository.delete(namespace, trigger);
  }

  async setStatus(namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined> {
    const existing = await this.options.repository.get(namespace, trigger);
    if (!existing) return undefined;
    const changed: Alarm = { ...existing, status, updated: Math.max(Date.now(), existing.updated + 1) };
    const stored = await this.options.repository.update({ ...changed, nextFire: dueTime(changed, Date.now()) });
    if (!stored) return undefined;
    await this.putSchedule(stored);
    return stored;
  }

  /** UpdateSchedule takes the whole definition; a once schedule that already fired is gone and made again. */
  private async putSchedule(alarm: Alarm): Promise<void> {
    const input = this.scheduleInput(alarm);
    if (alarm.spec.feed === 'once' && alarm.lastFired !== undefined) {
      // It fired: nothing is left to schedule (and `at` in the past is refused).
      try {
        await this.options.scheduler.send(new DeleteScheduleCommand({ Name: input.Name, GroupName: input.GroupName }));
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      return;
    }
    try {
      await this.options.scheduler.send(new UpdateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.options.scheduler.send(new CreateScheduleCommand(input));
    }
  }

  private scheduleInput(alarm: Alarm): CreateScheduleCommandInput {
    const { triggerNamespace: namespace, triggerName: trigger } = alarm;
    return {
      Name: scheduleName(namespace, trigger),
      GroupName: this.options.groupName,
      Description: `Skywhisk alarm of /${namespace}/${trigger}`.slice(0, 512),
      ...scheduleOf(alarm.spec),
      State: alarm.status === 'active' ? 'ENABLED' : 'DISABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({ source: SCHEDULED_FIRE_SOURCE, namespace, trigger, scheduledTime: '<aws.scheduler.scheduled-time>' }),
        // A fire is claimed in the store, so a retried delivery never fires twice.
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    };
  }
}

/**
 * The EventBridge scheduler when the deployment names its group, target and role
 * (`SKYWHISK_ALARM_SCHEDULE_GROUP`, `SKYWHISK_ALARM_TARGET_ARN`, `SKYWHISK_ALARM_ROLE_ARN`); else
 * undefined (no alarms feed). `targetArn` stands in for a missing target (the fire function itself).
 */
export function alarmSchedulerFromEnv(env: NodeJS.ProcessEnv, repository: AlarmsRepository, targetArn?: string): EventBridgeAlarmScheduler | undefined {
  const groupName = env.SKYWHISK_ALARM_SCHEDULE_GROUP;
  const target = env.SKYWHISK_ALARM_TARGET_ARN ?? targetArn;
  const roleArn = env.SKYWHISK_ALARM_ROLE_ARN;
  if (!groupName || !target || !roleArn) return undefined;
  return new EventBridgeAlarmScheduler({ repository, scheduler: new SchedulerClient({}), groupName, targetArn: target, roleArn });
}
