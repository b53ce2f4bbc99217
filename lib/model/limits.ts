import { z } from 'zod';

/** System limits and defaults, as OpenWhisk ships them (see shared/reference/openwhisk-api.md §7). */
export const SYSTEM_LIMITS = {
  invocationsPerMinute: 60,
  concurrentInvocations: 30,
  firesPerMinute: 60,
  sequenceMaxLength: 50,
  /** Bytes. */
  maxParameterSize: 1024 * 1024,
  maxPayloadSize: 1024 * 1024,
  maxResultSize: 1024 * 1024,
  maxCodeSize: 48 * 1024 * 1024,
  /** Longest a blocking invoke waits before answering 202. */
  maxBlockingWaitMs: 60_000,
  listLimitDefault: 30,
  listLimitMax: 200,
} as const;

export interface LimitRange {
  min: number;
  max: number;
  default: number;
}

export type ActionLimitName = 'timeout' | 'memory' | 'logs' | 'concurrency';
export type ActionLimitRanges = Record<ActionLimitName, LimitRange>;

/** OpenWhisk's action limits (`whisk.time-limit`, `whisk.memory`, `whisk.log-limit`, `whisk.concurrency-limit`). */
export const OPENWHISK_ACTION_RANGES: ActionLimitRanges = {
  timeout: { min: 100, max: 300_000, default: 60_000 },
  memory: { min: 128, max: 512, default: 256 },
  /** Log limit in MB, as the action `limits.logs` field carries it. */
  logs: { min: 0, max: 10, default: 10 },
  /** Activations one container runs at once (nodejs only above 1; OpenWhisk ships max 1 and deployments raise it). */
  concurrency: { min: 1, max: 500, default: 1 },
};

/**
 * The most a deployment may raise each range to: a day of run time, Docker's memory on a large
 * host, logs the invoker holds in memory while it collects them, and what the nodejs proxy runs at once.
 */
export const ACTION_LIMIT_CEILINGS: Record<ActionLimitName, number> = { timeout: 86_400_000, memory: 65_536, logs: 100, concurrency: 500 };

/**
 * Names `SKYWHISK_ACTION_LIMITS`: the deployment's action limit ranges as JSON, each field of
 * OpenWhisk's `min`, `max` and `std` (here `default`) optional, e.g.
 * `{"memory":{"max":4096},"timeout":{"max":3600000}}`. Unset: OpenWhisk's ranges.
 */
export const ACTION_LIMITS_ENV = 'SKYWHISK_ACTION_LIMITS';

const rangeSchema = z.object({ min: z.number().int().nonnegative(), max: z.number().int().positive(), default: z.number().int().nonnegative() }).partial().strict();

/**
 * The least a deployment may lower each range to: Docker needs a few MB to start a container at
 * all and 0 means no memory limit there, and OpenWhisk's runtimes need time to answer.
 */
export const ACTION_LIMIT_FLOORS: Record<ActionLimitName, number> = { timeout: 100, memory: 64, logs: 0, concurrency: 1 };

const rangesSchema = z
  .object({ timeout: rangeSchema, memory: rangeSchema, logs: rangeSchema, concurrency: rangeSchema })
  .partial()
  .strict()
  .transform((given, context) => {
    const ranges = {} as ActionLimitRanges;
    for (const name of Object.keys(OPENWHISK_ACTION_RANGES) as ActionLimitName[]) {
      const range = { ...OPENWHISK_ACTION_RANGES[name], ...given[name] };
      if (range.min > range.max) context.addIssue({ code: 'custom', path: [name], message: `min ${range.min} is above max ${range.max}` });
      else if (range.default < range.min || range.default > range.max) context.addIssue({ code: 'custom', path: [name, 'default'], message: `${range.default} is outside ${range.min}..${range.max}` });
      if (range.max > ACTION_LIMIT_CEILINGS[name]) context.addIssue({ code: 'custom', path: [name, 'max'], message: `${range.max} is above the most Skywhisk allows, ${ACTION_LIMIT_CEILINGS[name]}` });
      if (range.min < ACTION_LIMIT_FLOORS[name]) context.addIssue({ code: 'custom', path: [name, 'min'], message: `at least ${ACTION_LIMIT_FLOORS[name]}` });
      ranges[name] = range;
    }
    return ranges;
  });

/** Parses a `SKYWHISK_ACTION_LIMITS` value; throws with every problem named. */
export function parseActionLimitRanges(raw: string | undefined, source = ACTION_LIMITS_ENV): ActionLimitRanges {
  if (!raw?.trim()) return OPENWHISK_ACTION_RANGES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${source} is not JSON (${(error as Error).message}); expected e.g. {"memory":{"max":4096}}.`, { cause: error });
  }
  const parsed = rangesSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${source}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}.`);
  return parsed.data;
}

let cachedRanges: { raw: string | undefined; ranges: ActionLimitRanges } | undefined;

/** This deployment's action limit ranges (`SKYWHISK_ACTION_LIMITS`), read at first use and again only if it changes. */
export function actionLimitRanges(): ActionLimitRanges {
  const raw = process.env[ACTION_LIMITS_ENV];
  if (!cachedRanges || cachedRanges.raw !== raw) cachedRanges = { raw, ranges: parseActionLimitRanges(raw) };
  return cachedRanges.ranges;
}

export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
  /**
   * Containers the action may scale to, only when set (OpenWhisk's new scheduler reads it). Kept
   * and checked against the namespace; the namespace's concurrent invocations bound it at run time.
   */
  instances?: number;
}

/** The limits an action gets for what it does not set. */
export function defaultActionLimits(): ActionLimits {
  const ranges = actionLimitRanges();
  return { timeout: ranges.timeout.default, memory: ranges.memory.default, logs: ranges.logs.default, concurrency: ranges.concurrency.default };
}

/** The `GET /namespaces/{ns}/limits` document: system defaults, overridden per subject. */
export interface UserLimits {
  invocationsPerMinute: number;
  concurrentInvocations: number;
  firesPerMinute: number;
  minActionMemory: number;
  maxActionMemory: number;
  minActionTimeout: number;
  maxActionTimeout: number;
  minActionLogs: number;
  maxActionLogs: number;
  minActionConcurrency: number;
  maxActionConcurrency: number;
  maxParameterSize: number;
  /** Containers one action may use; the namespace's concurrency when not set per action. */
  maxActionInstances: number;
  /** The kinds the namespace may create actions of, when set (OpenWhisk's `allowedKinds`); empty or unset: all. */
  allowedKinds?: string[];
}

/** Which UserLimits bound which action limit. */
const ACTION_BOUNDS: Record<ActionLimitName, { min: keyof UserLimits; max: keyof UserLimits }> = {
  timeout: { min: 'minActionTimeout', max: 'maxActionTimeout' },
  memory: { min: 'minActionMemory', max: 'maxActionMemory' },
  logs: { min: 'minActionLogs', max: 'maxActionLogs' },
  concurrency: { min: 'minActionConcurrency', max: 'maxActionConcurrency' },
};

/**
 * A namespace's limits: the system's, with its overrides. Its action ranges stay inside the
 * system's, as OpenWhisk's `allowedMaxActionMemory` and friends keep them.
 */
export function userLimits(overrides: Partial<UserLimits> = {}): UserLimits {
  const ranges = actionLimitRanges();
  const bounded = {} as Record<string, number>;
  for (const name of Object.keys(ACTION_BOUNDS) as ActionLimitName[]) {
    const { min, max } = ACTION_BOUNDS[name];
    const range = ranges[name];
    bounded[min] = Math.min(Math.max((overrides[min] as number | undefined) ?? range.min, range.min), range.max);
    bounded[max] = Math.max(Math.min((overrides[max] as number | undefined) ?? range.max, range.max), range.min);
  }
  return {
    invocationsPerMinute: SYSTEM_LIMITS.invocationsPerMinute,
    concurrentInvocations: SYSTEM_LIMITS.concurrentInvocations,
    firesPerMinute: SYSTEM_LIMITS.firesPerMinute,
    maxParameterSize: SYSTEM_LIMITS.maxParameterSize,
    maxActionInstances: overrides.concurrentInvocations ?? SYSTEM_LIMITS.concurrentInvocations,
    ...overrides,
    ...(bounded as Pick<UserLimits, 'minActionMemory' | 'maxActionMemory' | 'minActionTimeout' | 'maxActionTimeout' | 'minActionLogs' | 'maxActionLogs' | 'minActionConcurrency' | 'maxActionConcurrency'>),
  };
}

/**
 * The first of an action's given limits outside its namespace's range (which lies inside the
 * system's), in OpenWhisk's words and order (`checkActionLimits`: memory, timeout, logs,
 * concurrency; a 400 without the malformed prefix). Only limits the request sets are checked.
 */
export function namespaceLimitViolation(limits: Partial<Record<ActionLimitName, number>> | undefined, user: UserLimits): string | undefined {
  for (const name of ['memory', 'timeout', 'logs', 'concurrency'] as const) {
    const value = limits?.[name];
    if (value === undefined) continue;
    const max = user[ACTION_BOUNDS[name].max] as number;
    const min = user[ACTION_BOUNDS[name].min] as number;
    if (value > max) return LIMIT_WORDS[name](value, 'exceeds', max);
    if (value < min) return LIMIT_WORDS[name](value, 'below', min);
  }
  return undefined;
}

/** OpenWhisk's wording of a limit outside its range. */
export const LIMIT_WORDS: Record<ActionLimitName, (value: number, relation: string, bound: number) => string> = {
  // OpenWhisk names the fields `duration` and `log` in these (TimeLimit, LogLimit).
  timeout: (value, relation, bound) => `duration ${value} milliseconds ${relation} allowed threshold of ${bound} milliseconds`,
  memory: (value, relation, bound) => `memory size ${value} MB ${relation} allowed threshold of ${bound} MB`,
  concurrency: (value, relation, bound) => `concurrency ${value} ${relation} allowed threshold of ${bound}`,
  logs: (value, relation, bound) => `log size ${value} MB ${relation} allowed threshold of ${bound} MB`,
};

/** Whether a namespace may create or update actions of `kind` (OpenWhisk's KindRestrictor). */
export function kindAllowed(user: Pick<UserLimits, 'allowedKinds'>, kind: string): boolean {
  return !user.allowedKinds?.length || user.allowedKinds.includes(kind);
}

export function notAuthorizedToKind(kind: string): string {
  return `The supplied authentication is not authorized to access actions of kind '${kind}'.`;
}

const count = z.number().int().nonnegative();
const KIND_NAME = /^(?:[a-z][a-z0-9.-]*:[a-z0-9][a-z0-9.-]*|blackbox|sequence)$/;

/**
 * Per-subject overrides an operator may set (OpenWhisk's `wskadmin limits set`): the throttles
 * (0 blocks the namespace, as in OpenWhisk), the action ranges (kept inside the system's), and the
 * kinds it may use.
 */
export const limitOverridesSchema = z
  .object({
    invocationsPerMinute: count,
    concurrentInvocations: count,
    firesPerMinute: count,
    minActionMemory: count,
    maxActionMemory: count,
    minActionTimeout: count,
    maxActionTimeout: count,
    minActionLogs: count,
    maxActionLogs: count,
    minActionConcurrency: count,
    maxActionConcurrency: count,
    allowedKinds: z.array(z.string().regex(KIND_NAME, 'a kind such as nodejs:22, blackbox or sequence')).max(100),
  })
  .partial()
  .strict()
  .superRefine((limits, context) => {
    for (const name of Object.keys(ACTION_BOUNDS) as ActionLimitName[]) {
      const { min, max } = ACTION_BOUNDS[name];
      const low = limits[min as keyof typeof limits] as number | undefined;
      const high = limits[max as keyof typeof limits] as number | undefined;
      if (low !== undefined && high !== undefined && low > high) context.addIssue({ code: 'custom', path: [min], message: `${min} ${low} is above ${max} ${high}` });
    }
  });

export type LimitOverrides = z.infer<typeof limitOverridesSchema>;
