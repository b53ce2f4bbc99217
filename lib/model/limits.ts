import { z } from 'zod';

/** System limits and defaults, as OpenWhisk ships them (see shared/reference/openwhisk-api.md §7). */
export const SYSTEM_LIMITS = {
  timeout: { min: 100, max: 300_000, default: 60_000 },
  memory: { min: 128, max: 512, default: 256 },
  /** Log limit in MB, as the action `limits.logs` field carries it. */
  logs: { min: 0, max: 10, default: 10 },
  /** Activations one container runs at once (nodejs only above 1; OpenWhisk ships max 1 and deployments raise it). */
  concurrency: { min: 1, max: 500, default: 1 },
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

export const DEFAULT_ACTION_LIMITS: ActionLimits = {
  timeout: SYSTEM_LIMITS.timeout.default,
  memory: SYSTEM_LIMITS.memory.default,
  logs: SYSTEM_LIMITS.logs.default,
  concurrency: SYSTEM_LIMITS.concurrency.default,
};

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
}

export function userLimits(overrides: Partial<UserLimits> = {}): UserLimits {
  return {
    invocationsPerMinute: SYSTEM_LIMITS.invocationsPerMinute,
    concurrentInvocations: SYSTEM_LIMITS.concurrentInvocations,
    firesPerMinute: SYSTEM_LIMITS.firesPerMinute,
    minActionMemory: SYSTEM_LIMITS.memory.min,
    maxActionMemory: SYSTEM_LIMITS.memory.max,
    minActionTimeout: SYSTEM_LIMITS.timeout.min,
    maxActionTimeout: SYSTEM_LIMITS.timeout.max,
    minActionLogs: SYSTEM_LIMITS.logs.min,
    maxActionLogs: SYSTEM_LIMITS.logs.max,
    minActionConcurrency: SYSTEM_LIMITS.concurrency.min,
    maxActionConcurrency: SYSTEM_LIMITS.concurrency.max,
    maxParameterSize: SYSTEM_LIMITS.maxParameterSize,
    maxActionInstances: overrides.concurrentInvocations ?? SYSTEM_LIMITS.concurrentInvocations,
    ...overrides,
  };
}

const count = z.number().int().nonnegative();

/**
 * Per-subject overrides an operator may set (OpenWhisk's `wskadmin limits set`): the throttles.
 * 0 blocks the namespace, as in OpenWhisk.
 */
export const limitOverridesSchema = z
  .object({ invocationsPerMinute: count, concurrentInvocations: count, firesPerMinute: count })
  .partial()
  .strict();

export type LimitOverrides = z.infer<typeof limitOverridesSchema>;
