import { eventBridgeCron, scheduleName, scheduleOf } from '../../lib/alarms/eventbridge-scheduler';

// How the alarms feed's specs become EventBridge Scheduler expressions. EventBridge's cron has six
// fields (min hour day-of-month month day-of-week year), wants `?` in one day field, and numbers
// days of the week 1 (Sunday) to 7.

test.each([
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
  ['0 0 1 * 1', /restricts both day of month and day of week/],
  ['30 * * * * *', /has seconds/],
  ['0 0 * * 1#2', /day of week EventBridge cannot express/],
])('%s is refused with a 400 naming the reason', (cron, message) => {
  expect(() => eventBridgeCron({ cron })).toThrow(message);
  try {
    eventBridgeCron({ cron });
  } catch (error) {
    expect((error as { status: number }).status).toBe(400);
  }
});

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
