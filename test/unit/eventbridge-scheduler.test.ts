import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { CronExpressionParser } from 'cron-parser';
import {
  alarmSchedulerFromEnv,
  EventBridgeAlarmScheduler,
  eventBridgeCron,
  PAST_DUE_DELAY_MS,
  scheduleFor,
  scheduleName,
  scheduleOf,
} from '../../lib/alarms/eventbridge-scheduler';
import type { AlarmSpec } from '../../lib/alarms/spec';
import { AlarmExistsError, alarmKey, type Alarm, type AlarmsRepository } from '../../lib/alarms/store';

// The EventBridge Scheduler side of the alarms feed: how crons are written for EventBridge, what is
// scheduled for a stored alarm, and the Scheduler commands each operation sends (Scheduler mocked,
// the record in an in-memory stand-in for AlarmsRepository with the same conditions).

describe('cron conversion', () => {
  test.each([
    ['5/15 * * * *', 'cron(5/15 * * * ? *)'],
    ['0-30/10 * * * *', 'cron(0,10,20,30 * * * ? *)'],
    ['0 9-17 * * *', 'cron(0 9-17 * * ? *)'],
    ['0 9-17/2 * * *', 'cron(0 9,11,13,15,17 * * ? *)'],
    ['*/15,7 * * * *', 'cron(0,7,15,30,45 * * * ? *)'],
    ['0,30 * * * *', 'cron(0,30 * * * ? *)'],
    ['0 0 L * *', 'cron(0 0 L * ? *)'],
    ['0 0 1-7 * *', 'cron(0 0 1-7 * ? *)'],
    ['0 0 * JAN-MAR *', 'cron(0 0 * 1-3 ? *)'],
    ['0 0 * jan,jul *', 'cron(0 0 * 1,7 ? *)'],
    ['0 0 ? * 1', 'cron(0 0 ? * 2 *)'],
    ['0 0 1 * ?', 'cron(0 0 1 * ? *)'],
    ['0 8 * * THU', 'cron(0 8 ? * 5 *)'],
    ['0 0 * * MON-FRI/2', 'cron(0 0 ? * 2,4,6 *)'],
    ['0 0 * * 1/2', 'cron(0 0 ? * 1,2,4,6 *)'],
    ['0 22 * * 5L', 'cron(0 22 ? * 6L *)'],
    ['0 0 */1 * *', 'cron(0 0 * * ? *)'],
    ['* * * * *', 'cron(* * * * ? *)'],
    ['*/5 * * * *', 'cron(0/5 * * * ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2,3,4,5,6 *)'],
    ['0 9 * * MON-FRI', 'cron(0 9 ? * 2,3,4,5,6 *)'],
    ['30 18 * * 0', 'cron(30 18 ? * 1 *)'],
    ['30 18 * * 7', 'cron(30 18 ? * 1 *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * 1,6,7 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 * * 0-6', 'cron(0 0 ? * * *)'],
    ['15 2 1,15 * *', 'cron(15 2 1,15 * ? *)'],
    ['0 */6 */2 * *', 'cron(0 0/6 1/2 * ? *)'],
    ['0 12 * */3 *', 'cron(0 12 * 1/3 ? *)'],
    ['0 0 9 * * *', 'cron(0 9 * * ? *)'],
  ])('%s → %s', (cron, expected) => {
    expect(eventBridgeCron({ cron })).toBe(expected);
  });

  test.each([
    ['H * * * *', /hashed value/],
    ['0 0 1,L * *', /day of month EventBridge cannot express/],
    ['0 0 * * 1#2', /day of week EventBridge cannot express/],
    ['0 0 1-15 * MON', /restricts both day of month and day of week/],
    ['61 * * * *', /is not valid/],
    ['0 0 * *', /is not valid/],
    ['30 0 0 * * *', /has seconds/],
    ['0 0 1 * 1', /restricts both day of month and day of week/],
    ['30 * * * * *', /has seconds/],
  ])('%s is refused with a 400', (cron, message) => {
    expect(() => eventBridgeCron({ cron })).toThrow(message);
    expect(() => eventBridgeCron({ cron })).toThrow(expect.objectContaining({ status: 400 }));
  });

  /** EventBridge's syntax read back as Unix cron: `?` is `*`, days of the week count from 1. */
  function unixOf(expression: string): string {
    const [minute, hour, dom, month, dow] = expression.slice('cron('.length, -1).split(' ');
    const day = (field: string) => (field === '?' || field === '*' ? '*' : field.replace(/\d+/g, (n) => String(Number(n) - 1)));
    return [minute, hour, dom === '?' ? '*' : dom, month, day(dow)].join(' ');
  }

  function fires(cron: string, count: number): string[] {
    const expression = CronExpressionParser.parse(cron, { currentDate: new Date('2026-01-01T00:00:00Z'), tz: 'UTC' });
    return Array.from({ length: count }, () => expression.next().toISOString() ?? '');
  }

  test.each(['*/7 */5 * * *', '0-30/10 9-17/2 * * *', '15 3 */3 2-11/3 *', '0 12 * * MON-FRI/2', '0 0 * * 5-7', '30 6 L * *', '45 23 * * 3L', '0 0 1,15 * *', '*/15,7 * * * *'])(
    '%s fires at the same times once written for EventBridge',
    (cron) => {
      expect(fires(unixOf(eventBridgeCron({ cron })), 40)).toEqual(fires(cron, 40));
    },
  );
});

describe('the schedule of a stored alarm', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');

  test('an interval armed again after its start keeps its phase: StartDate is its next tick', () => {
    const startDate = Date.parse('2026-11-22T10:00:20Z');
    expect(scheduleFor({ spec: { feed: 'interval', minutes: 7, startDate } }, now)).toEqual({
      ScheduleExpression: 'rate(7 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      StartDate: new Date(startDate + 18 * 7 * 60_000),
    });
    expect(scheduleFor({ spec: { feed: 'interval', minutes: 7, startDate: now + 5000 } }, now)).toMatchObject({ StartDate: new Date(now + 5000) });
  });

  test('a schedule with a stop date is removed by Scheduler after its last fire; past it there is nothing to schedule', () => {
    const stopDate = now + 3_600_000;
    expect(scheduleFor({ spec: { feed: 'alarm', cron: '*/10 * * * *', stopDate } }, now)).toEqual({
      ScheduleExpression: 'cron(0/10 * * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      EndDate: new Date(stopDate),
      ActionAfterCompletion: 'DELETE',
    });
    expect(scheduleFor({ spec: { feed: 'alarm', cron: '*/10 * * * *', stopDate } }, stopDate)).toBeUndefined();
    expect(scheduleFor({ spec: { feed: 'interval', minutes: 5, startDate: now - 60_000, stopDate: now + 60_000 } }, now + 120_000)).toBeUndefined();
  });

  test('a once alarm: at its date, shortly when past due, nothing once fired', () => {
    const spec: AlarmSpec = { feed: 'once', date: now + 3_600_000, deleteAfterFire: 'false' };
    expect(scheduleFor({ spec }, now)).toEqual({ ScheduleExpression: 'at(2026-11-22T13:00:00)', ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE' });
    expect(scheduleFor({ spec }, now + 7_200_000)).toMatchObject({ ScheduleExpression: `at(${new Date(now + 7_200_000 + PAST_DUE_DELAY_MS).toISOString().slice(0, 19)})` });
    expect(scheduleFor({ spec, lastFired: spec.date }, now)).toBeUndefined();
  });
});

/** AlarmsRepository's contract in memory: ifAbsent, update of an existing record only, delete ifUpdated. */
class MemoryAlarms {
  readonly records = new Map<string, Alarm>();
  get(namespace: string, trigger: string): Promise<Alarm | undefined> {
    return Promise.resolve(this.records.get(alarmKey(namespace, trigger)));
  }
  put(alarm: Alarm, options: { ifAbsent?: boolean } = {}): Promise<void> {
    const key = alarmKey(alarm.triggerNamespace, alarm.triggerName);
    if (options.ifAbsent && this.records.has(key)) return Promise.reject(new AlarmExistsError(`an alarm for ${key} exists`));
    this.records.set(key, alarm);
    return Promise.resolve();
  }
  update(alarm: Alarm): Promise<Alarm | undefined> {
    const key = alarmKey(alarm.triggerNamespace, alarm.triggerName);
    const existing = this.records.get(key);
    if (!existing) return Promise.resolve(undefined);
    const stored: Alarm = { ...alarm, created: existing.created, lastFired: existing.lastFired };
    if (alarm.nextFire === undefined) delete stored.nextFire;
    this.records.set(key, stored);
    return Promise.resolve(stored);
  }
  delete(namespace: string, trigger: string, options: { ifUpdated?: number } = {}): Promise<boolean> {
    const key = alarmKey(namespace, trigger);
    const existing = this.records.get(key);
    if (!existing || (options.ifUpdated !== undefined && existing.updated !== options.ifUpdated)) return Promise.resolve(false);
    this.records.delete(key);
    return Promise.resolve(true);
  }
}

describe('EventBridgeAlarmScheduler commands', () => {
  const GROUP = 'Skywhisk-alarms';
  const TARGET = 'arn:aws:lambda:eu-west-1:123456789012:function:fire';
  const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
  const client = mockClient(SchedulerClient);
  let records: MemoryAlarms;
  let alarms: EventBridgeAlarmScheduler;
  const notFound = () => new ResourceNotFoundException({ message: 'Schedule not found', Message: 'Schedule not found', $metadata: {} });

  beforeEach(() => {
    client.reset();
    client.onAnyCommand().resolves({});
    records = new MemoryAlarms();
    alarms = new EventBridgeAlarmScheduler({ repository: records as unknown as AlarmsRepository, scheduler: new SchedulerClient({}), groupName: GROUP, targetArn: TARGET, roleArn: ROLE });
  });
  afterAll(() => client.restore());

  function alarm(trigger: string, spec: AlarmSpec, overrides: Partial<Alarm> = {}): Alarm {
    const now = Date.now();
    return { triggerNamespace: 'guest', triggerName: trigger, ownerUuid: 'owner', spec, payload: { n: 1 }, status: 'active', created: now, updated: now, ...overrides };
  }

  /** The inputs sent with one kind of command, in order. */
  const calls = (command: typeof CreateScheduleCommand | typeof UpdateScheduleCommand | typeof DeleteScheduleCommand): Array<Record<string, unknown>> =>
    client
      .calls()
      .map((call) => call.args[0])
      .filter((sent) => sent instanceof command)
      .map((sent) => sent.input as unknown as Record<string, unknown>);

  test('limits crons to minutes', () => {
    expect(alarms.limitCronFields).toBe(true);
  });

  test('create stores the record, then makes the schedule: the full definition, firing the trigger with the scheduled time', async () => {
    const startDate = Date.now() + 3_600_000;
    await alarms.create(alarm('every-5', { feed: 'interval', minutes: 5, startDate }));
    expect(records.records.get('guest/every-5')).toMatchObject({ nextFire: startDate });
    expect(calls(CreateScheduleCommand)).toEqual([
      {
        Name: scheduleName('guest', 'every-5'),
        GroupName: GROUP,
        Description: 'Skywhisk alarm of /guest/every-5',
        ScheduleExpression: 'rate(5 minutes)',
        ScheduleExpressionTimezone: 'UTC',
        StartDate: new Date(startDate),
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: TARGET,
          RoleArn: ROLE,
          Input: '{"source":"skywhisk.alarm","namespace":"guest","trigger":"every-5","scheduledTime":"<aws.scheduler.scheduled-time>"}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        },
      },
    ]);
    expect(scheduleName('guest', 'every-5')).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });

  test('a once alarm is an at() schedule in UTC that Scheduler deletes after it fires', async () => {
    const date = Date.parse('2099-03-04T05:06:07.890Z');
    await alarms.create(alarm('once', { feed: 'once', date, deleteAfterFire: 'rules' }));
    expect(calls(CreateScheduleCommand)[0]).toMatchObject({ ScheduleExpression: 'at(2099-03-04T05:06:07)', ScheduleExpressionTimezone: 'UTC', ActionAfterCompletion: 'DELETE' });
  });

  test('a cron keeps its time zone and window', async () => {
    const startDate = Date.now() + 86_400_000;
    const stopDate = startDate + 86_400_000 * 30;
    await alarms.create(alarm('weekdays', { feed: 'alarm', cron: '30 8 * * MON-FRI', timezone: 'America/New_York', startDate, stopDate }));
    expect(calls(CreateScheduleCommand)[0]).toMatchObject({
      ScheduleExpression: 'cron(30 8 ? * 2,3,4,5,6 *)',
      ScheduleExpressionTimezone: 'America/New_York',
      StartDate: new Date(startDate),
      EndDate: new Date(stopDate),
      ActionAfterCompletion: 'DELETE',
    });
  });

  test('nothing half-made: a refused CreateSchedule removes the record again and is rethrown (a ValidationException as a 400)', async () => {
    client.on(CreateScheduleCommand).rejectsOnce(new Error('throttled')).rejectsOnce(new ValidationException({ message: 'Invalid StartDate', Message: 'Invalid StartDate', $metadata: {} }));
    await expect(alarms.create(alarm('a', { feed: 'alarm', cron: '0 * * * *' }))).rejects.toThrow('throttled');
    await expect(alarms.create(alarm('b', { feed: 'alarm', cron: '0 * * * *' }))).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Invalid StartDate') });
    expect(records.records.size).toBe(0);
  });

  test('a cron EventBridge cannot express writes nothing; an existing alarm is an AlarmExistsError and leaves its schedule alone', async () => {
    await expect(alarms.create(alarm('both', { feed: 'alarm', cron: '0 0 1 * 1' }))).rejects.toMatchObject({ status: 400 });
    await alarms.create(alarm('taken', { feed: 'alarm', cron: '0 * * * *' }));
    await expect(alarms.create(alarm('taken', { feed: 'alarm', cron: '5 * * * *' }))).rejects.toBeInstanceOf(AlarmExistsError);
    expect(calls(CreateScheduleCommand)).toHaveLength(1);
    expect(records.records.has('guest/both')).toBe(false);
  });

  test('a leftover schedule of the same name (no record) takes the new definition', async () => {
    client.on(CreateScheduleCommand).rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    await alarms.create(alarm('leftover', { feed: 'alarm', cron: '0 * * * *' }));
    expect(calls(UpdateScheduleCommand)).toEqual([calls(CreateScheduleCommand)[0]]);
    expect(records.records.has('guest/leftover')).toBe(true);
  });

  test('update rewrites the whole schedule and the record; an absent alarm changes nothing', async () => {
    const created = alarm('hourly', { feed: 'alarm', cron: '0 * * * *' });
    await alarms.create(created);
    const changed: Alarm = { ...created, spec: { feed: 'alarm', cron: '15 */2 * * *', timezone: 'Asia/Tokyo' }, payload: { n: 2 }, updated: created.updated + 1 };
    expect(await alarms.update(changed)).toBe(true);
    const [input] = calls(UpdateScheduleCommand);
    expect(input).toEqual({ ...calls(CreateScheduleCommand)[0], ScheduleExpression: 'cron(15 0/2 * * ? *)', ScheduleExpressionTimezone: 'Asia/Tokyo' });
    expect(records.records.get('guest/hourly')).toMatchObject({ payload: { n: 2 }, spec: changed.spec });
    expect(await alarms.update(alarm('none', { feed: 'alarm', cron: '0 * * * *' }))).toBe(false);
    expect(calls(UpdateScheduleCommand)).toHaveLength(1);
  });

  test('pause disables the schedule and resume enables it, each with the full definition rebuilt from the record', async () => {
    const created = alarm('pausable', { feed: 'interval', minutes: 2, startDate: Date.now() - 61_000 });
    await records.put(created);
    const paused = await alarms.setStatus('guest', 'pausable', 'paused');
    expect(paused).toMatchObject({ status: 'paused' });
    expect(paused?.nextFire).toBeUndefined();
    const resumed = await alarms.setStatus('guest', 'pausable', 'active');
    const [pause, resume] = calls(UpdateScheduleCommand);
    expect(pause).toMatchObject({ Name: scheduleName('guest', 'pausable'), State: 'DISABLED', ScheduleExpression: 'rate(2 minutes)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: TARGET, RoleArn: ROLE } });
    // Resumed, it fires at its next tick from startDate, not at once.
    expect(resume).toMatchObject({ State: 'ENABLED', StartDate: new Date(created.spec.feed === 'interval' ? created.spec.startDate + 120_000 : 0) });
    expect(resumed?.nextFire).toBe((resume.StartDate as Date).getTime());
    expect(await alarms.setStatus('guest', 'absent', 'paused')).toBeUndefined();
  });

  test('a schedule Scheduler already removed is made again; a fired once alarm gets none', async () => {
    await records.put(alarm('gone', { feed: 'alarm', cron: '0 * * * *' }));
    client.on(UpdateScheduleCommand).rejects(notFound());
    await alarms.setStatus('guest', 'gone', 'paused');
    expect(calls(CreateScheduleCommand)).toEqual([expect.objectContaining({ State: 'DISABLED', Name: scheduleName('guest', 'gone') })]);

    client.reset();
    client.onAnyCommand().resolves({});
    await records.put(alarm('fired', { feed: 'once', date: Date.now() - 1000, deleteAfterFire: 'false' }, { lastFired: Date.now() - 1000 }));
    await alarms.setStatus('guest', 'fired', 'paused');
    expect(calls(DeleteScheduleCommand)).toEqual([{ Name: scheduleName('guest', 'fired'), GroupName: GROUP }]);
    expect(calls(UpdateScheduleCommand)).toEqual([]);
  });

  test('delete removes the schedule (already gone is fine) and the record; another Scheduler error keeps the record', async () => {
    await records.put(alarm('doomed', { feed: 'alarm', cron: '0 * * * *' }));
    client.on(DeleteScheduleCommand).rejectsOnce(new Error('throttled')).rejectsOnce(notFound());
    await expect(alarms.delete('guest', 'doomed')).rejects.toThrow('throttled');
    expect(records.records.has('guest/doomed')).toBe(true);
    expect(await alarms.delete('guest', 'doomed')).toBe(true);
    expect(records.records.has('guest/doomed')).toBe(false);
    expect(calls(DeleteScheduleCommand)).toEqual([
      { Name: scheduleName('guest', 'doomed'), GroupName: GROUP },
      { Name: scheduleName('guest', 'doomed'), GroupName: GROUP },
    ]);
    expect(await alarms.delete('guest', 'doomed')).toBe(false);
  });
});

test('alarmSchedulerFromEnv needs the group, the target and the role', () => {
  const repository = new MemoryAlarms() as unknown as AlarmsRepository;
  const env = { SKYWHISK_ALARM_SCHEDULE_GROUP: 'g', SKYWHISK_ALARM_TARGET_ARN: 'arn:target', SKYWHISK_ALARM_ROLE_ARN: 'arn:role' };
  expect(alarmSchedulerFromEnv(env, repository)).toBeInstanceOf(EventBridgeAlarmScheduler);
  for (const name of Object.keys(env)) expect(alarmSchedulerFromEnv({ ...env, [name]: undefined }, repository)).toBeUndefined();
  // The fire function names itself as the target.
  expect(alarmSchedulerFromEnv({ ...env, SKYWHISK_ALARM_TARGET_ARN: undefined }, repository, 'arn:self')).toBeInstanceOf(EventBridgeAlarmScheduler);
});

// The window of each feed's schedule as defined.
describe('schedule windows', () => {
  test('interval, once and a cron with a time zone and a window', () => {
    const now = Date.parse('2026-11-22T12:00:00Z');
    const later = Date.parse('2026-12-01T08:00:00Z');
    const end = Date.parse('2027-01-01T00:00:00Z');
    expect(scheduleOf({ feed: 'interval', minutes: 1, startDate: now - 1000 }, now)).toEqual({ ScheduleExpression: 'rate(1 minute)', ScheduleExpressionTimezone: 'UTC' });
    expect(scheduleOf({ feed: 'interval', minutes: 15, startDate: later, stopDate: end }, now)).toEqual({
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      StartDate: new Date(later),
      EndDate: new Date(end),
    });
    expect(scheduleOf({ feed: 'once', date: later + 1500, deleteAfterFire: 'true' }, now)).toEqual({
      ScheduleExpression: 'at(2026-12-01T08:00:01)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
    });
    expect(scheduleOf({ feed: 'alarm', cron: '0 8 * * *', timezone: 'Europe/Paris', startDate: later, stopDate: end }, now)).toEqual({
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      StartDate: new Date(later),
      EndDate: new Date(end),
    });
  });

  test('schedule names are stable, distinct per trigger, and within EventBridge limits', () => {
    const name = scheduleName('guest', 'every-minute');
    expect(name).toBe(scheduleName('guest', 'every-minute'));
    expect(name).not.toBe(scheduleName('guest', 'every-minutes'));
    expect(name).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });
});
