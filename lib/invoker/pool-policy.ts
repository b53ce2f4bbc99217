import { IDLE_STATES, type StateName } from './container-life';

/**
 * The pool's decisions as pure functions over plain views of its containers (OpenWhisk's
 * `ContainerPool.schedule` and `remove` have the same split): where an activation runs, what is
 * evicted for it, and which stem cells to start or retire. The pool only carries them out.
 */

export interface ContainerView {
  id: number;
  state: StateName;
  kind: string;
  memoryMb: number;
  /** The action it serves, once bound to one. */
  key?: string;
  active: number;
  maxConcurrency: number;
  lastUsed: number;
  /** When a stem cell became ready. */
  since?: number;
  /** To be removed once given back: never leased again. */
  doomed?: boolean;
}

export interface RunRequest {
  key: string;
  kind: string;
  memoryMb: number;
  maxConcurrency: number;
}

export type Placement =
  | { how: 'warm'; id: number }
  | { how: 'prewarmed'; id: number }
  /** A new container, after removing `evict` (idle containers, least recently used first). */
  | { how: 'cold'; evict: number[] }
  /** Every container that could make room is busy: wait for a release. */
  | { how: 'wait' };

const FROZEN: ReadonlySet<StateName> = new Set(['pausing', 'paused', 'resuming']);

/**
 * A container already serving `key` with room for one more: a running one below its concurrency
 * first (no thaw), then the most recently used warm one, then a frozen one.
 */
export function pickWarm(containers: readonly ContainerView[], key: string, maxConcurrency: number): ContainerView | undefined {
  const rank = (c: ContainerView): number => {
    if (c.key !== key || c.doomed) return -1;
    if (c.state === 'running') return c.active < maxConcurrency ? 3 : -1;
    if (c.state === 'warm') return 2;
    if (c.state === 'resuming') return c.active < maxConcurrency ? 1 : -1;
    if (FROZEN.has(c.state)) return 1;
    return -1;
  };
  let best: ContainerView | undefined;
  for (const c of containers) {
    const r = rank(c);
    if (r < 0) continue;
    if (!best || r > rank(best) || (r === rank(best) && c.lastUsed > best.lastUsed)) best = c;
  }
  return best;
}

/** A ready stem cell of the kind and memory asked for (the one ready longest). */
export function pickStemCell(containers: readonly ContainerView[], kind: string, memoryMb: number): ContainerView | undefined {
  return containers
    .filter((c) => c.state === 'prewarmed' && c.kind === kind && c.memoryMb === memoryMb)
    .sort((a, b) => (a.since ?? 0) - (b.since ?? 0))[0];
}

export function memoryUsed(containers: readonly ContainerView[]): number {
  return containers.reduce((sum, c) => sum + (c.state === 'removing' || c.state === 'removed' ? 0 : c.memoryMb), 0);
}

/**
 * Idle containers to remove so that `neededMb` fits, least recently used first; undefined when even
 * removing every idle one would not make room (then nothing is removed: the activation waits).
 * A warm container of `forKey` is never a victim: it would have been picked instead.
 */
export function pickVictims(containers: readonly ContainerView[], neededMb: number, budgetMb: number, forKey?: string): number[] | undefined {
  let free = budgetMb - memoryUsed(containers);
  if (free >= neededMb) return [];
  const idle = containers
    // A pausing one too: its removal waits for the pause to settle.
    .filter((c) => IDLE_STATES.has(c.state) && (c.key === undefined || c.key !== forKey))
    .sort((a, b) => a.lastUsed - b.lastUsed);
  const victims: number[] = [];
  for (const c of idle) {
    if (free >= neededMb) break;
    victims.push(c.id);
    free += c.memoryMb;
  }
  return free >= neededMb ? victims : undefined;
}

/** Where the activation at the head of the run queue goes now. */
export function place(request: RunRequest, containers: readonly ContainerView[], budgetMb: number): Placement {
  const warm = pickWarm(containers, request.key, request.maxConcurrency);
  if (warm) return { how: 'warm', id: warm.id };
  const cell = pickStemCell(containers, request.kind, request.memoryMb);
  if (cell) return { how: 'prewarmed', id: cell.id };
  const evict = pickVictims(containers, request.memoryMb, budgetMb, request.key);
  return evict ? { how: 'cold', evict } : { how: 'wait' };
}

/**
 * The next activation to start from the run queue, served first in, first out: only the head is
 * placed, and everything behind it waits while it waits, so a large action is not passed over
 * forever by small ones (OpenWhisk's run buffer). Undefined when the queue is empty or its head waits.
 */
export function placeHead(queue: readonly RunRequest[], containers: readonly ContainerView[], budgetMb: number): Exclude<Placement, { how: 'wait' }> | undefined {
  if (queue.length === 0) return undefined;
  const placement = place(queue[0], containers, budgetMb);
  return placement.how === 'wait' ? undefined : placement;
}

// ---- Stem cells (OpenWhisk's prewarm, static or reactive) ----

export interface ReactivePrewarm {
  minCount: number;
  maxCount: number;
  /** A stem cell unused this long is retired (down to `minCount`). */
  ttlMs: number;
  /** Cold starts in one check interval that add `increment` stem cells. */
  threshold: number;
  increment: number;
}

export interface StemCellConfig {
  kind: string;
  memoryMb: number;
  initialCount: number;
  /** Absent: always `initialCount` cells. */
  reactive?: ReactivePrewarm;
}

export interface StemCellInput {
  configs: readonly StemCellConfig[];
  /** Each config's current number of cells wanted (start with `initialTargets`). */
  targets: readonly number[];
  containers: readonly ContainerView[];
  /** Each config's cold starts since the last check. */
  coldStarts: readonly number[];
  now: number;
  /** A periodic check: grow for cold starts and retire expired cells. Otherwise only refill. */
  check: boolean;
  budgetMb: number;
  /** Activations waiting for memory come before stem cells. */
  queueWaiting: boolean;
}

export interface StemCellPlan {
  targets: number[];
  /** Index into configs, once per cell to start. */
  start: number[];
  /** Ready cells to remove. */
  retire: number[];
}

export function initialTargets(configs: readonly StemCellConfig[]): number[] {
  return configs.map((c) => c.initialCount);
}

/** The stem cells of one config: starting ones not bound to an action, and ready ones. */
function cellsOf(config: StemCellConfig, containers: readonly ContainerView[]): ContainerView[] {
  return containers.filter((c) => c.kind === config.kind && c.memoryMb === config.memoryMb && (c.state === 'prewarmed' || (c.state === 'starting' && c.key === undefined)));
}

/**
 * What to start and retire. At a check, a reactive config grows by `increment` for every
 * `threshold` cold starts since the last check (up to `maxCount`); with no cold starts, ready
 * cells unused for `ttlMs` are retired down to `minCount`. Between checks, cells taken are
 * replaced up to the target. Cells start only in free memory (never by evicting) and never while
 * an activation waits for memory.
 */
export function planStemCells(input: StemCellInput): StemCellPlan {
  const targets = [...input.targets];
  const start: number[] = [];
  const retire: number[] = [];
  let free = input.budgetMb - memoryUsed(input.containers);
  input.configs.forEach((config, index) => {
    const cells = cellsOf(config, input.containers);
    let have = cells.length;
    const reactive = config.reactive;
    if (input.check && reactive) {
      const growth = Math.floor(input.coldStarts[index] / reactive.threshold) * reactive.increment;
      if (growth > 0) {
        targets[index] = Math.min(reactive.maxCount, Math.max(targets[index], reactive.minCount) + growth);
      } else {
        const expired = cells.filter((c) => c.state === 'prewarmed' && input.now - (c.since ?? input.now) >= reactive.ttlMs).sort((a, b) => (a.since ?? 0) - (b.since ?? 0));
        const surplus = Math.max(0, have - reactive.minCount);
        for (const cell of expired.slice(0, surplus)) {
          retire.push(cell.id);
          free += cell.memoryMb;
          have--;
        }
        targets[index] = Math.max(reactive.minCount, Math.min(targets[index], have));
      }
    }
    if (input.queueWaiting) return;
    while (have < targets[index] && free >= config.memoryMb) {
      start.push(index);
      free -= config.memoryMb;
      have++;
    }
  });
  return { targets, start, retire };
}
