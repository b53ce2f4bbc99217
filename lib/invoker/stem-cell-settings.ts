import { z } from 'zod';
import { activeRuntimes, resolveKind, RUNTIMES_ENV, type RuntimeKind } from '../model/runtimes';
import type { StemCellConfig } from './pool-policy';

/**
 * `SKYWHISK_STEM_CELLS`, in either of two forms:
 * - compact, static counts: `kind:memory:count` items separated by commas (`nodejs:20:256:2`);
 * - JSON, OpenWhisk's runtimes.json `stemCells` entries with the kind added:
 *   `[{"kind":"nodejs:20","memory":"256 MB","initialCount":2,
 *      "reactive":{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":1}}]`.
 * Empty means no stem cells.
 */
export const STEM_CELLS_ENV = 'SKYWHISK_STEM_CELLS';

const MINUTE = 60_000;

/** OpenWhisk's default for nodejs (runtimes.json), and the same for python. */
export const DEFAULT_STEM_CELLS: StemCellConfig[] = [
  { kind: 'nodejs:22', memoryMb: 256, initialCount: 2, reactive: { minCount: 1, maxCount: 4, ttlMs: 2 * MINUTE, threshold: 1, increment: 1 } },
  // Actions created before nodejs:22 became the default keep their kind: cells of it only once
  // they cold-start (none held for a platform that has no such actions).
  { kind: 'nodejs:20', memoryMb: 256, initialCount: 0, reactive: { minCount: 0, maxCount: 4, ttlMs: 2 * MINUTE, threshold: 1, increment: 1 } },
  { kind: 'python:3.11', memoryMb: 256, initialCount: 1, reactive: { minCount: 1, maxCount: 4, ttlMs: 2 * MINUTE, threshold: 1, increment: 1 } },
];

const UNIT_MS: Record<string, number> = { ms: 1, millisecond: 1, s: 1000, second: 1000, m: MINUTE, min: MINUTE, minute: MINUTE, h: 60 * MINUTE, hour: 60 * MINUTE };

/** `"2 minutes"`, `"90 s"`, `"500 ms"`, or a number of milliseconds. */
const duration = z.union([z.number().int().positive(), z.string()]).transform((value, context) => {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+)\s*([a-z]+)\s*$/i.exec(value);
  const word = match?.[2].toLowerCase() ?? '';
  const unit = UNIT_MS[word] ?? UNIT_MS[word.replace(/s$/, '')];
  if (!match || unit === undefined) {
    context.addIssue({ code: 'custom', message: `'${value}' is not a duration such as "2 minutes", "90 s" or "500 ms"` });
    return z.NEVER;
  }
  return Number(match[1]) * unit;
});

/** `"256 MB"`, `"1 GB"` or a number of megabytes. */
const memory = z.union([z.number().int().positive(), z.string()]).transform((value, context) => {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+)\s*(MB|M|GB|G)\s*$/i.exec(value);
  if (!match) {
    context.addIssue({ code: 'custom', message: `'${value}' is not a memory size such as "256 MB"` });
    return z.NEVER;
  }
  return Number(match[1]) * (match[2].toUpperCase().startsWith('G') ? 1024 : 1);
});

const count = z.number().int().min(0);

const stemCell = z
  .object({
    kind: z.string().min(1),
    memory,
    initialCount: count,
    reactive: z
      .object({ minCount: count, maxCount: count, ttl: duration, threshold: z.number().int().positive(), increment: z.number().int().positive() })
      .strict()
      .refine((r) => r.minCount <= r.maxCount, { message: 'minCount must not exceed maxCount' })
      .optional(),
  })
  .strict();

function fromJson(value: string): StemCellConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new Error(`${STEM_CELLS_ENV} is not JSON (${(error as Error).message})`, { cause: error });
  }
  return checked(parsed, STEM_CELLS_ENV);
}

function checked(cells: unknown, source: string): StemCellConfig[] {
  // OpenWhisk's manifests may say `count` for `initialCount`.
  const named = Array.isArray(cells)
    ? cells.map((cell: unknown) => {
        if (!cell || typeof cell !== 'object' || !('count' in cell) || 'initialCount' in cell) return cell;
        const { count, ...rest } = cell as Record<string, unknown>;
        return { ...rest, initialCount: count };
      })
    : cells;
  const result = z.array(stemCell).safeParse(named);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new Error(`${source}: ${problems.join('; ')}`);
  }
  return result.data.map((cell) => ({
    kind: cell.kind,
    memoryMb: cell.memory,
    initialCount: cell.initialCount,
    ...(cell.reactive ? { reactive: { minCount: cell.reactive.minCount, maxCount: cell.reactive.maxCount, ttlMs: cell.reactive.ttl, threshold: cell.reactive.threshold, increment: cell.reactive.increment } } : {}),
  }));
}

/**
 * The stem cells when `SKYWHISK_STEM_CELLS` is not set: a runtimes manifest's (`SKYWHISK_RUNTIMES`,
 * each kind's `stemCells`) when one is given, else OpenWhisk's defaults.
 */
export function defaultStemCells(): StemCellConfig[] {
  return manifestStemCells(activeRuntimes()) ?? DEFAULT_STEM_CELLS;
}

/** The stem cells a manifest's kinds give (undefined for the built-in kinds, which have none of their own); throws on a bad entry. */
export function manifestStemCells(kinds: readonly RuntimeKind[]): StemCellConfig[] | undefined {
  if (!kinds.some((k) => k.stemCells)) return undefined;
  return checked(
    kinds.flatMap((k) => (k.stemCells ?? []).map((cell) => ({ ...cell, kind: k.kind }))),
    `${RUNTIMES_ENV} stemCells`,
  );
}

function fromCompact(value: string): StemCellConfig[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^(.+):(\d+):(\d+)$/.exec(item);
      if (!match) throw new Error(`${STEM_CELLS_ENV}: '${item}' is not kind:memory:count`);
      return { kind: match[1], memoryMb: Number(match[2]), initialCount: Number(match[3]) };
    });
}

export function parseStemCells(value: string | undefined, fallback?: StemCellConfig[]): StemCellConfig[] {
  if (value === undefined) return fallback ?? defaultStemCells();
  const cells = value.trim().startsWith('[') ? fromJson(value) : fromCompact(value);
  const kinds = activeRuntimes();
  for (const cell of cells) {
    if (!kinds.some((r) => r.kind === cell.kind)) {
      throw new Error(`${STEM_CELLS_ENV}: '${cell.kind}' is not a runtime kind (known: ${kinds.map((r) => r.kind).join(', ')})`);
    }
  }
  return cells;
}

/** Processes run only our runtimes: stem cells of a manifest's other images would fail at every check. */
export function runnableStemCells(cells: StemCellConfig[], factory: string): StemCellConfig[] {
  if (factory !== 'process') return cells;
  return cells.filter((cell) => resolveKind(cell.kind)?.protocol !== 'openwhisk');
}

/** How often reactive stem cells are checked (OpenWhisk's prewarm-expiration-check-interval); at least a second. */
export const PREWARM_CHECK_ENV = 'SKYWHISK_PREWARM_CHECK_INTERVAL_MS';
export const DEFAULT_PREWARM_CHECK_MS = 60_000;

export function parsePrewarmCheckInterval(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_PREWARM_CHECK_MS;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1000) throw new Error(`${PREWARM_CHECK_ENV}: '${value}' is not a whole number of milliseconds, at least 1000`);
  return ms;
}
