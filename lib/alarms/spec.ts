import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { MAX_JSON_NESTING, nestsDeeperThan } from '../model/json-depth';
import { isJsonObject } from '../model/json-object';

/**
 * The schedule of an alarm, as the three feeds of OpenWhisk's `/whisk.system/alarms` package
 * define it (openwhisk-package-alarms, action/alarmWebAction.js): parameters in, validated with
 * the package's messages, and the next fire time out.
 *
 * Dates are stored as epoch milliseconds. A fire at exactly `stopDate` still happens (the package
 * only stops when the next fire is after the stop date).
 */

export const ALARM_FEEDS = ['alarm', 'interval', 'once'] as const;
export type AlarmFeed = (typeof ALARM_FEEDS)[number];

export const DELETE_AFTER_FIRE = ['false', 'true', 'rules'] as const;
export type DeleteAfterFire = (typeof DELETE_AFTER_FIRE)[number];

/** An interval feed without `startDate` starts this long after its creation, as in the package. */
export const DEFAULT_INTERVAL_START_DELAY_MS = 30_000;

const epochMs = z.number().int().min(-8.64e15).max(8.64e15);

export const cronSpecSchema = z.object({
  feed: z.literal('alarm'),
  cron: z.string().min(1),
  timezone: z.string().min(1).optional(),
  startDate: epochMs.optional(),
  stopDate: epochMs.optional(),
  /** Accepted and echoed; this provider always fires at the top of the minute (no spreading). */
  strict: z.boolean().optional(),
});

export const intervalSpecSchema = z.object({
  feed: z.literal('interval'),
  minutes: z.number().int().positive(),
  /** The first fire; later ones every `minutes`. */
  startDate: epochMs,
  stopDate: epochMs.optional(),
});

export const onceSpecSchema = z.object({
  feed: z.literal('once'),
  date: epochMs,
  deleteAfterFire: z.enum(DELETE_AFTER_FIRE),
});

export const alarmSpecSchema = z.discriminatedUnion('feed', [cronSpecSchema, intervalSpecSchema, onceSpecSchema]);
export type AlarmSpec = z.infer<typeof alarmSpecSchema>;
export type CronSpec = z.infer<typeof cronSpecSchema>;
export type IntervalSpec = z.infer<typeof intervalSpecSchema>;
export type OnceSpec = z.infer<typeof onceSpecSchema>;

/** Any JSON object, kept as given (z.record would rebuild it and drop a `__proto__` key). */
export const payloadSchema = z.custom<Record<string, unknown>>(isJsonObject, 'trigger_payload must be a JSON object');
export type AlarmPayload = z.infer<typeof payloadSchema>;

export type AlarmParseResult = { success: true; spec: AlarmSpec; payload: AlarmPayload } | { success: false; error: string };

export interface AlarmParseOptions {
  /** The clock dates are checked against (default `Date.now()`). */
  now?: number;
  /** Refuse 6-field crons with a seconds field other than `0` (the package's `limitCronFields`). */
  limitCronFields?: boolean;
}

export const AlarmMessages = {
  feed: `feed parameter must be one of [${ALARM_FEEDS.join(', ')}].`,
  missingCron: 'alarms trigger feed is missing the cron parameter',
  missingMinutes: 'interval trigger feed is missing the minutes parameter',
  minutesInteger: 'the minutes parameter must be an integer',
  minutesPositive: 'the minutes parameter must be an integer greater than zero',
  missingDate: 'alarms once trigger feed is missing the date parameter',
  deleteAfterFire: 'deleteAfterFire parameter must be one of [false, true, rules].',
  invalidTimezone: 'Invalid timezone.',
  cronSeconds: 'cron pattern is limited to 5 fields with 1 minute as the finest granularity',
  maxTriggersInterval: 'maxTriggers is not supported for the interval trigger feed',
  maxTriggersStopDate: 'maxTriggers is not allowed when the stopDate parameter is specified',
  maxTriggersUnsupported: 'maxTriggers is deprecated and not supported by this provider; use the stopDate parameter',
  firstFireAfterStop: 'the first scheduled trigger fire is not until after the stop date',
  nothingToUpdate: 'no updatable parameters were specified',
  cronInvalid: (cron: unknown) => `cron pattern '${String(cron)}' is not valid`,
  feedMismatch: (existing: AlarmFeed, requested: AlarmFeed) => `the trigger's alarm was created by the '${existing}' feed, not the '${requested}' feed`,
} as const;

class InvalidAlarm extends Error {}

function fail(message: string): never {
  throw new InvalidAlarm(message);
}

/** Whether a parameter counts as given: the package tests parameters for truthiness. */
function given(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '' && value !== 0 && value !== false;
}

export function isAlarmFeed(value: unknown): value is AlarmFeed {
  return typeof value === 'string' && (ALARM_FEEDS as readonly string[]).includes(value);
}

/** A date parameter: epoch milliseconds or a string `new Date` reads (ISO 8601); NaN otherwise. */
function toEpoch(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value).getTime() : NaN;
  if (typeof value === 'string') return new Date(value).getTime();
  if (value instanceof Date) return value.getTime();
  return NaN;
}

function display(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The package's validateDate: a valid date, in the future, after `startDate` when given. */
function futureDate(value: unknown, name: string, now: number, startDate?: { shown: unknown; ms: number }): number {
  const ms = toEpoch(value);
  if (Number.isNaN(ms)) fail(`${name} parameter '${display(value)}' is not a valid Date`);
  if (now >= ms) fail(`${name} parameter '${display(value)}' must be in the future`);
  if (startDate && ms <= startDate.ms) {
    fail(`${name} parameter '${display(value)}' must be greater than the startDate parameter '${display(startDate.shown)}'`);
  }
  return ms;
}

function validTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** A cron of 5 fields (minute first) or 6 (seconds first), as node-cron reads it; timezone an IANA zone. */
function checkCron(cron: unknown, timezone: unknown, now: number, limitCronFields: boolean): { cron: string; timezone?: string } {
  if (typeof cron !== 'string') fail(AlarmMessages.cronInvalid(cron));
  const fields = cron.trim().split(/\s+/);
  if (fields.length < 5 || fields.length > 6) fail(AlarmMessages.cronInvalid(cron));
  let zone: string | undefined;
  if (given(timezone)) {
    if (typeof timezone !== 'string' || !validTimezone(timezone)) fail(AlarmMessages.invalidTimezone);
    zone = timezone;
  }
  try {
    CronExpressionParser.parse(fields.join(' '), { currentDate: new Date(now), ...(zone ? { tz: zone } : {}) }).next();
  } catch {
    fail(AlarmMessages.cronInvalid(cron));
  }
  if (limitCronFields && fields.length === 6 && fields[0] !== '0') fail(AlarmMessages.cronSeconds);
  return { cron: fields.join(' '), ...(zone ? { timezone: zone } : {}) };
}

function parseMinutes(value: unknown): number {
  if (!given(value)) fail(AlarmMessages.missingMinutes);
  const text = String(value);
  // The package's `+minutes !== parseInt(minutes)`.
  if (Number(text) !== Number.parseInt(text, 10)) fail(AlarmMessages.minutesInteger);
  const minutes = Number.parseInt(text, 10);
  if (minutes <= 0) fail(AlarmMessages.minutesPositive);
  // Beyond this, epoch arithmetic stops being exact.
  if (minutes > 1e9) fail(AlarmMessages.minutesInteger);
  return minutes;
}

function parseDeleteAfterFire(value: unknown): DeleteAfterFire {
  const text = String(value).trim().toLowerCase();
  if (!(DELETE_AFTER_FIRE as readonly string[]).includes(text)) fail(AlarmMessages.deleteAfterFire);
  return text as DeleteAfterFire;
}

function parseStrict(value: unknown): boolean {
  return String(value).toLowerCase() === 'true';
}

/**
 * `trigger_payload` becomes the body of every fire: an object as is, a string holding a JSON
 * object parsed, any other string as `{payload: string}` (the package's wrapping), nothing as {}.
 * Any other value is wrapped as `{payload: value}` too, since a fire's body is an object.
 */
export function normalizePayload(value: unknown): AlarmPayload {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as AlarmPayload;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as AlarmPayload;
    } catch {
      // not JSON: wrapped below
    }
  }
  return { payload: value };
}

function finish(spec: AlarmSpec, payload: AlarmPayload): AlarmParseResult {
  const checked = alarmSpecSchema.safeParse(spec);
  if (!checked.success) return { success: false, error: checked.error.issues[0].message };
  const body = payloadSchema.safeParse(payload);
  if (!body.success) return { success: false, error: 'trigger_payload must be a JSON object' };
  // A JSON string payload was not measured with the request body.
  if (nestsDeeperThan(body.data, MAX_JSON_NESTING)) return { success: false, error: `trigger_payload nests more than ${MAX_JSON_NESTING} levels` };
  return { success: true, spec: checked.data, payload: body.data };
}

function guarded(build: () => AlarmParseResult): AlarmParseResult {
  try {
    return build();
  } catch (error) {
    if (error instanceof InvalidAlarm) return { success: false, error: error.message };
    throw error;
  }
}

function stopDateChecks(params: Record<string, unknown>, feed: AlarmFeed): void {
  if (given(params.maxTriggers) && given(params.stopDate)) {
    fail(feed === 'interval' ? AlarmMessages.maxTriggersInterval : AlarmMessages.maxTriggersStopDate);
  }
}

/**
 * A new alarm from feed parameters (`feed` names the feed). Unknown parameters are ignored, as the
 * package ignores them.
 */
export function parseAlarmParams(params: Record<string, unknown>, options: AlarmParseOptions = {}): AlarmParseResult {
  const now = options.now ?? Date.now();
  return guarded(() => {
    const feed = params.feed;
    if (!isAlarmFeed(feed)) fail(AlarmMessages.feed);
    const payload = normalizePayload(params.trigger_payload);

    if (feed === 'once') {
      if (!given(params.date)) fail(AlarmMessages.missingDate);
      const date = futureDate(params.date, 'date', now);
      const deleteAfterFire = given(params.deleteAfterFire) ? parseDeleteAfterFire(params.deleteAfterFire) : 'false';
      return finish({ feed, date, deleteAfterFire }, payload);
    }

    if (feed === 'interval') {
      const minutes = parseMinutes(params.minutes);
      const start = given(params.startDate)
        ? { shown: params.startDate, ms: futureDate(params.startDate, 'startDate', now) }
        : { shown: now + DEFAULT_INTERVAL_START_DELAY_MS, ms: now + DEFAULT_INTERVAL_START_DELAY_MS };
      stopDateChecks(params, feed);
      const stopDate = given(params.stopDate) ? futureDate(params.stopDate, 'stopDate', now, start) : undefined;
      return finish({ feed, minutes, startDate: start.ms, ...(stopDate !== undefined ? { stopDate } : {}) }, payload);
    }

    if (!given(params.cron)) fail(AlarmMessages.missingCron);
    const cron = checkCron(params.cron, params.timezone, now, options.limitCronFields ?? false);
    const start = given(params.startDate) ? { shown: params.startDate, ms: futureDate(params.startDate, 'startDate', now) } : undefined;
    stopDateChecks(params, feed);
    if (given(params.maxTriggers) && Number(params.maxTriggers) !== -1) fail(AlarmMessages.maxTriggersUnsupported);
    const stopDate = given(params.stopDate) ? futureDate(params.stopDate, 'stopDate', now, start) : undefined;
    const spec: CronSpec = {
      feed,
      ...cron,
      ...(start ? { startDate: start.ms } : {}),
      ...(stopDate !== undefined ? { stopDate } : {}),
      ...(params.strict !== undefined && params.strict !== null ? { strict: parseStrict(params.strict) } : {}),
    };
    if (stopDate !== undefined && nextFireTime(spec, now) === undefined) fail(AlarmMessages.firstFireAfterStop);
    return finish(spec, payload);
  });
}

/**
 * The package's UPDATE: only the parameters given change, each validated as on create (dates in
 * the future, `stopDate` after the new or the existing `startDate`). Nothing updatable given is
 * an error. `feed`, when given, must be the feed the alarm was created with.
 */
export function updateAlarmParams(
  existing: { spec: AlarmSpec; payload: AlarmPayload },
  params: Record<string, unknown>,
  options: AlarmParseOptions = {},
): AlarmParseResult {
  const now = options.now ?? Date.now();
  return guarded(() => {
    const current = existing.spec;
    if (params.feed !== undefined) {
      if (!isAlarmFeed(params.feed)) fail(AlarmMessages.feed);
      if (params.feed !== current.feed) fail(AlarmMessages.feedMismatch(current.feed, params.feed));
    }
    let changed = false;
    let payload = existing.payload;
    if (given(params.trigger_payload)) {
      payload = normalizePayload(params.trigger_payload);
      changed = true;
    }

    if (current.feed === 'once') {
      const spec: OnceSpec = { ...current };
      if (given(params.date)) {
        spec.date = futureDate(params.date, 'date', now);
        changed = true;
      }
      if (given(params.deleteAfterFire)) {
        spec.deleteAfterFire = parseDeleteAfterFire(params.deleteAfterFire);
        changed = true;
      }
      if (!changed) fail(AlarmMessages.nothingToUpdate);
      return finish(spec, payload);
    }

    const spec: CronSpec | IntervalSpec = { ...current };
    if (spec.feed === 'interval') {
      if (given(params.minutes)) {
        spec.minutes = parseMinutes(params.minutes);
        changed = true;
      }
    } else {
      if (given(params.cron) || given(params.timezone)) {
        const cron = checkCron(given(params.cron) ? params.cron : spec.cron, given(params.timezone) ? params.timezone : spec.timezone, now, options.limitCronFields ?? false);
        spec.cron = cron.cron;
        if (cron.timezone) spec.timezone = cron.timezone;
        changed = true;
      }
      if (params.strict !== undefined && params.strict !== null) {
        spec.strict = parseStrict(params.strict);
        changed = true;
      }
    }
    let start: { shown: unknown; ms: number } | undefined = spec.startDate !== undefined ? { shown: iso(spec.startDate), ms: spec.startDate } : undefined;
    if (given(params.startDate)) {
      start = { shown: params.startDate, ms: futureDate(params.startDate, 'startDate', now) };
      spec.startDate = start.ms;
      changed = true;
    }
    if (given(params.stopDate)) {
      spec.stopDate = futureDate(params.stopDate, 'stopDate', now, start);
      changed = true;
    } else if (given(params.startDate) && spec.stopDate !== undefined && start && start.ms >= spec.stopDate) {
      fail(`startDate parameter '${display(params.startDate)}' must be less than the stopDate parameter '${iso(spec.stopDate)}'`);
    }
    if (!changed) fail(AlarmMessages.nothingToUpdate);
    return finish(spec, payload);
  });
}

/**
 * The first fire of `spec` strictly after `after` (epoch ms), or undefined when there is none
 * (a once alarm whose date is not after `after`, a schedule past its stop date).
 */
export function nextFireTime(spec: AlarmSpec, after: number): number | undefined {
  if (Number.isNaN(after)) return undefined;
  let next: number;
  switch (spec.feed) {
    case 'once':
      return spec.date > after ? spec.date : undefined;
    case 'interval': {
      const period = spec.minutes * 60_000;
      next = after < spec.startDate ? spec.startDate : spec.startDate + (Math.floor((after - spec.startDate) / period) + 1) * period;
      break;
    }
    case 'alarm': {
      // Nothing before 1970 matters; it keeps the search finite when `after` is -Infinity.
      const from = Math.max(after, spec.startDate !== undefined ? spec.startDate - 1 : 0, 0);
      try {
        const expression = CronExpressionParser.parse(spec.cron, { currentDate: new Date(from), ...(spec.timezone ? { tz: spec.timezone } : {}) });
        next = expression.next().getTime();
      } catch {
        return undefined;
      }
      break;
    }
  }
  if (spec.stopDate !== undefined && next > spec.stopDate) return undefined;
  return next;
}
