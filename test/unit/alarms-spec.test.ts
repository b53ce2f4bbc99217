import { alarmSpecSchema, nextFireTime, normalizePayload, parseAlarmParams, updateAlarmParams, type AlarmParseResult, type AlarmSpec } from '../../lib/alarms/spec';

const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const at = (iso: string) => Date.parse(iso);

function ok(result: AlarmParseResult) {
  if (!result.success) throw new Error(`expected success, got: ${result.error}`);
  return result;
}

function error(params: Record<string, unknown>, options: { limitCronFields?: boolean } = {}): string {
  const result = parseAlarmParams(params, { now: NOW, ...options });
  if (result.success) throw new Error(`expected an error, got ${JSON.stringify(result.spec)}`);
  return result.error;
}

describe('feed parameter validation (the package messages)', () => {
  test('an unknown or missing feed', () => {
    expect(error({ cron: '* * * * *' })).toBe('feed parameter must be one of [alarm, interval, once].');
    expect(error({ feed: 'weekly' })).toBe('feed parameter must be one of [alarm, interval, once].');
  });

  test.each([
    [{ feed: 'alarm' }, 'alarms trigger feed is missing the cron parameter'],
    [{ feed: 'alarm', cron: 'not a cron' }, "cron pattern 'not a cron' is not valid"],
    [{ feed: 'alarm', cron: '* * * *' }, "cron pattern '* * * *' is not valid"],
    [{ feed: 'alarm', cron: '* * * * * * *' }, "cron pattern '* * * * * * *' is not valid"],
    [{ feed: 'alarm', cron: '61 * * * *' }, "cron pattern '61 * * * *' is not valid"],
    [{ feed: 'alarm', cron: '0 0 31 2 *' }, "cron pattern '0 0 31 2 *' is not valid"],
    [{ feed: 'alarm', cron: '* * * * *', timezone: 'Mars/Olympus' }, 'Invalid timezone.'],
    [{ feed: 'alarm', cron: '* * * * *', startDate: 'soon' }, "startDate parameter 'soon' is not a valid Date"],
    [{ feed: 'alarm', cron: '* * * * *', startDate: '2029-12-31T00:00:00Z' }, "startDate parameter '2029-12-31T00:00:00Z' must be in the future"],
    [
      { feed: 'alarm', cron: '* * * * *', startDate: '2030-02-01T00:00:00Z', stopDate: '2030-01-15T00:00:00Z' },
      "stopDate parameter '2030-01-15T00:00:00Z' must be greater than the startDate parameter '2030-02-01T00:00:00Z'",
    ],
    [{ feed: 'alarm', cron: '0 0 1 6 *', stopDate: '2030-03-01T00:00:00Z' }, 'the first scheduled trigger fire is not until after the stop date'],
    [{ feed: 'alarm', cron: '* * * * *', maxTriggers: 3, stopDate: '2030-03-01T00:00:00Z' }, 'maxTriggers is not allowed when the stopDate parameter is specified'],
    [{ feed: 'interval' }, 'interval trigger feed is missing the minutes parameter'],
    [{ feed: 'interval', minutes: 1.5 }, 'the minutes parameter must be an integer'],
    [{ feed: 'interval', minutes: 'ten' }, 'the minutes parameter must be an integer'],
    [{ feed: 'interval', minutes: -5 }, 'the minutes parameter must be an integer greater than zero'],
    [{ feed: 'interval', minutes: '0' }, 'the minutes parameter must be an integer greater than zero'],
    [{ feed: 'interval', minutes: 5, maxTriggers: 3, stopDate: '2030-03-01T00:00:00Z' }, 'maxTriggers is not supported for the interval trigger feed'],
    [{ feed: 'once' }, 'alarms once trigger feed is missing the date parameter'],
    [{ feed: 'once', date: 'tomorrow' }, "date parameter 'tomorrow' is not a valid Date"],
    [{ feed: 'once', date: '2029-06-01T12:00:00Z' }, "date parameter '2029-06-01T12:00:00Z' must be in the future"],
    [{ feed: 'once', date: NOW }, `date parameter '${NOW}' must be in the future`],
    [{ feed: 'once', date: '2030-06-01T12:00:00Z', deleteAfterFire: 'sometimes' }, 'deleteAfterFire parameter must be one of [false, true, rules].'],
  ])('%j → %s', (params, message) => {
    expect(error(params)).toBe(message);
  });

  test('a stopDate of an interval must follow its default start, 30 s after now', () => {
    expect(error({ feed: 'interval', minutes: 1, stopDate: NOW + 10_000 })).toBe(
      `stopDate parameter '${NOW + 10_000}' must be greater than the startDate parameter '${NOW + 30_000}'`,
    );
  });

  test('six fields (seconds first) are accepted unless limitCronFields', () => {
    expect(ok(parseAlarmParams({ feed: 'alarm', cron: '*/10 * * * * *' }, { now: NOW })).spec).toEqual({ feed: 'alarm', cron: '*/10 * * * * *' });
    expect(ok(parseAlarmParams({ feed: 'alarm', cron: '0 */5 * * * *' }, { now: NOW, limitCronFields: true })).spec.feed).toBe('alarm');
    expect(error({ feed: 'alarm', cron: '*/10 * * * * *' }, { limitCronFields: true })).toBe('cron pattern is limited to 5 fields with 1 minute as the finest granularity');
  });

  test('valid parameters become a spec with epoch-millisecond dates; unknown parameters are ignored', () => {
    expect(
      ok(
        parseAlarmParams(
          { feed: 'alarm', cron: ' 0 9 * * 1 ', timezone: 'Europe/Berlin', startDate: '2030-02-01T00:00:00Z', stopDate: at('2030-12-31T00:00:00Z'), strict: 'TRUE', extra: 1 },
          { now: NOW },
        ),
      ).spec,
    ).toEqual({ feed: 'alarm', cron: '0 9 * * 1', timezone: 'Europe/Berlin', startDate: at('2030-02-01T00:00:00Z'), stopDate: at('2030-12-31T00:00:00Z'), strict: true });
    expect(ok(parseAlarmParams({ feed: 'interval', minutes: '15' }, { now: NOW })).spec).toEqual({ feed: 'interval', minutes: 15, startDate: NOW + 30_000 });
    expect(ok(parseAlarmParams({ feed: 'once', date: '2030-06-01T12:00:00Z', deleteAfterFire: ' Rules ' }, { now: NOW })).spec).toEqual({
      feed: 'once',
      date: at('2030-06-01T12:00:00Z'),
      deleteAfterFire: 'rules',
    });
    expect(ok(parseAlarmParams({ feed: 'once', date: at('2030-06-01T12:00:00Z') }, { now: NOW })).spec).toMatchObject({ deleteAfterFire: 'false' });
  });

  test('every parsed spec satisfies the stored schema', () => {
    const spec = ok(parseAlarmParams({ feed: 'interval', minutes: 2, startDate: '2030-01-02T00:00:00Z' }, { now: NOW })).spec;
    expect(alarmSpecSchema.safeParse(spec).success).toBe(true);
    expect(alarmSpecSchema.safeParse({ feed: 'interval', minutes: 0, startDate: NOW }).success).toBe(false);
  });
});

describe('trigger_payload', () => {
  test('an object as is, a JSON object string parsed, any other string wrapped, nothing as {}', () => {
    expect(normalizePayload({ a: 1 })).toEqual({ a: 1 });
    expect(normalizePayload('{"name":"Odin"}')).toEqual({ name: 'Odin' });
    expect(normalizePayload('hello')).toEqual({ payload: 'hello' });
    expect(normalizePayload('[1,2]')).toEqual({ payload: '[1,2]' });
    expect(normalizePayload(undefined)).toEqual({});
    expect(normalizePayload('')).toEqual({});
    expect(normalizePayload(42)).toEqual({ payload: 42 });
    expect(ok(parseAlarmParams({ feed: 'interval', minutes: 1, trigger_payload: '{"x":true}' }, { now: NOW })).payload).toEqual({ x: true });
  });
});

describe('nextFireTime', () => {
  test('a cron every minute fires at the next minute, strictly after', () => {
    const spec: AlarmSpec = { feed: 'alarm', cron: '* * * * *' };
    expect(nextFireTime(spec, at('2030-01-01T00:00:00.000Z'))).toBe(at('2030-01-01T00:01:00.000Z'));
    expect(nextFireTime(spec, at('2030-01-01T00:00:59.999Z'))).toBe(at('2030-01-01T00:01:00.000Z'));
  });

  test('a 6-field cron fires on seconds', () => {
    const spec: AlarmSpec = { feed: 'alarm', cron: '*/15 * * * * *' };
    expect(nextFireTime(spec, at('2030-01-01T00:00:00.000Z'))).toBe(at('2030-01-01T00:00:15.000Z'));
    expect(nextFireTime(spec, at('2030-01-01T00:00:50.000Z'))).toBe(at('2030-01-01T00:01:00.000Z'));
  });

  test('a cron is read in its timezone', () => {
    const spec: AlarmSpec = { feed: 'alarm', cron: '0 9 * * *', timezone: 'America/New_York' };
    expect(nextFireTime(spec, at('2030-01-01T00:00:00Z'))).toBe(at('2030-01-01T14:00:00Z'));
    expect(nextFireTime(spec, at('2030-07-01T00:00:00Z'))).toBe(at('2030-07-01T13:00:00Z'));
  });

  test('a cron does not fire before its startDate nor after its stopDate (a fire at the stop date happens)', () => {
    const spec: AlarmSpec = { feed: 'alarm', cron: '0 * * * *', startDate: at('2030-01-01T05:30:00Z'), stopDate: at('2030-01-01T07:00:00Z') };
    expect(nextFireTime(spec, at('2030-01-01T00:00:00Z'))).toBe(at('2030-01-01T06:00:00Z'));
    expect(nextFireTime(spec, at('2030-01-01T06:00:00Z'))).toBe(at('2030-01-01T07:00:00Z'));
    expect(nextFireTime(spec, at('2030-01-01T07:00:00Z'))).toBeUndefined();
    const onStart: AlarmSpec = { feed: 'alarm', cron: '0 * * * *', startDate: at('2030-01-01T05:00:00Z') };
    expect(nextFireTime(onStart, at('2030-01-01T00:00:00Z'))).toBe(at('2030-01-01T05:00:00Z'));
  });

  test('an interval fires at its startDate, then every `minutes`, until its stopDate', () => {
    const start = at('2030-01-01T10:00:00Z');
    const spec: AlarmSpec = { feed: 'interval', minutes: 5, startDate: start, stopDate: at('2030-01-01T10:10:00Z') };
    expect(nextFireTime(spec, -Infinity)).toBe(start);
    expect(nextFireTime(spec, start - 1)).toBe(start);
    expect(nextFireTime(spec, start)).toBe(start + 5 * 60_000);
    expect(nextFireTime(spec, start + 7 * 60_000)).toBe(start + 10 * 60_000);
    expect(nextFireTime(spec, start + 10 * 60_000)).toBeUndefined();
  });

  test('a once alarm fires at its date, and never after it', () => {
    const spec: AlarmSpec = { feed: 'once', date: at('2030-03-01T00:00:00Z'), deleteAfterFire: 'false' };
    expect(nextFireTime(spec, NOW)).toBe(at('2030-03-01T00:00:00Z'));
    expect(nextFireTime(spec, at('2030-03-01T00:00:00Z'))).toBeUndefined();
  });

  test('a once date in the past is refused when the alarm is created', () => {
    const result = parseAlarmParams({ feed: 'once', date: '2020-01-01T00:00:00Z' }, { now: NOW });
    expect(result).toEqual({ success: false, error: "date parameter '2020-01-01T00:00:00Z' must be in the future" });
  });
});

describe('update (only the given parameters change)', () => {
  const interval = ok(parseAlarmParams({ feed: 'interval', minutes: 5, startDate: '2030-01-02T00:00:00Z', stopDate: '2030-02-01T00:00:00Z' }, { now: NOW }));
  const cron = ok(parseAlarmParams({ feed: 'alarm', cron: '0 * * * *', timezone: 'UTC', trigger_payload: { a: 1 } }, { now: NOW }));
  const once = ok(parseAlarmParams({ feed: 'once', date: '2030-06-01T00:00:00Z' }, { now: NOW }));
  const later = NOW + 86_400_000;

  test('nothing updatable is an error', () => {
    expect(updateAlarmParams(interval, { feed: 'interval', unrelated: 1 }, { now: later })).toEqual({ success: false, error: 'no updatable parameters were specified' });
  });

  test('a different feed is refused', () => {
    expect(updateAlarmParams(interval, { feed: 'once', date: '2030-06-01T00:00:00Z' }, { now: later })).toEqual({
      success: false,
      error: "the trigger's alarm was created by the 'interval' feed, not the 'once' feed",
    });
  });

  test('interval minutes change; the rest (even a start date now past) stays', () => {
    expect(ok(updateAlarmParams(interval, { minutes: 10 }, { now: later + 86_400_000 })).spec).toEqual({ ...interval.spec, minutes: 10 });
    expect(updateAlarmParams(interval, { minutes: 0.5 }, { now: later })).toEqual({ success: false, error: 'the minutes parameter must be an integer' });
  });

  test('a new startDate must be before the existing stopDate', () => {
    const result = updateAlarmParams(interval, { startDate: '2030-03-01T00:00:00Z' }, { now: later });
    expect(result).toEqual({ success: false, error: "startDate parameter '2030-03-01T00:00:00Z' must be less than the stopDate parameter '2030-02-01T00:00:00.000Z'" });
  });

  test('cron and timezone are validated together; the payload is replaced', () => {
    const updated = ok(updateAlarmParams(cron, { timezone: 'Asia/Tokyo', trigger_payload: { b: 2 } }, { now: later }));
    expect(updated.spec).toEqual({ feed: 'alarm', cron: '0 * * * *', timezone: 'Asia/Tokyo' });
    expect(updated.payload).toEqual({ b: 2 });
    expect(updateAlarmParams(cron, { cron: 'bad' }, { now: later })).toEqual({ success: false, error: "cron pattern 'bad' is not valid" });
    expect(updateAlarmParams(cron, { timezone: 'Nowhere/Land' }, { now: later })).toEqual({ success: false, error: 'Invalid timezone.' });
  });

  test('once date and deleteAfterFire', () => {
    expect(ok(updateAlarmParams(once, { deleteAfterFire: true }, { now: later })).spec).toEqual({ ...once.spec, deleteAfterFire: 'true' });
    expect(updateAlarmParams(once, { date: '2029-01-01T00:00:00Z' }, { now: later })).toEqual({ success: false, error: "date parameter '2029-01-01T00:00:00Z' must be in the future" });
  });
});
