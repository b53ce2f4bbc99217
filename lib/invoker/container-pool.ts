import type { ActionContainer, ContainerFactory, ContainerSpec } from './container';

/**
 * A container's life, as OpenWhisk's ContainerProxy has it:
 * starting -> prewarmed -> initialising -> running -> warm -> paused -> removed
 * (a cold start goes starting -> initialising; any state can end in removed).
 */
export type ContainerState = 'starting' | 'prewarmed' | 'initialising' | 'running' | 'warm' | 'paused' | 'removed';

export interface StemCellConfig {
  kind: string;
  memoryMb: number;
  count: number;
}

export interface PoolOptions {
  /** Memory all action containers may use together. */
  memoryBudgetMb: number;
  /** An idle warm container is paused after this long (where the factory can pause). */
  pauseGraceMs: number;
  /** An idle (warm or paused) container is removed after this long. */
  idleTimeoutMs: number;
  /** Started, uninitialised containers kept per kind and memory size. */
  stemCells: StemCellConfig[];
}

interface Slot {
  id: number;
  state: ContainerState;
  kind: string;
  memoryMb: number;
  container?: ActionContainer;
  /** Invocation namespace + action + revision, once initialised for an action. */
  key?: string;
  active: number;
  maxConcurrency: number;
  lastUsed: number;
  pauseTimer?: NodeJS.Timeout;
  /** The pause in progress, so a reuse waits for it before resuming. */
  pausing?: Promise<void>;
}

/** What a lease says about how the activation got its container. */
export type StartKind = 'warm' | 'prewarmed' | 'cold';

export interface Lease {
  container: ActionContainer;
  start: StartKind;
  /** Call when /init succeeded: the container is running the activation. */
  initialised(): void;
}

export interface PoolStatus {
  states: Record<ContainerState, number>;
  kinds: Record<string, number>;
  memoryUsedMb: number;
  memoryBudgetMb: number;
  queued: number;
  /** Each container: its id, state, kind, and the action it serves (`namespace/path`) once initialised. */
  containers: Array<{ id?: string; state: ContainerState; kind: string; action?: string }>;
  counters: { cold: number; prewarmed: number; warm: number; resumed: number; evicted: number; idleRemoved: number; queued: number };
}

/**
 * The invoker's container pool: warm reuse by key, prewarmed stem cells by kind and memory,
 * pausing, idle removal, and a memory budget enforced by evicting idle containers (least recently
 * used first) or, when every container is busy, queueing the activation until memory frees.
 */
export class ContainerPool {
  private readonly slots = new Map<number, Slot>();
  private readonly leases = new Map<ActionContainer, Slot>();
  private waiters: Array<() => void> = [];
  private nextId = 1;
  private stopped = false;
  private readonly reaper: NodeJS.Timeout;
  private readonly counters: PoolStatus['counters'] = { cold: 0, prewarmed: 0, warm: 0, resumed: 0, evicted: 0, idleRemoved: 0, queued: 0 };
  private queued = 0;

  constructor(
    private readonly factory: ContainerFactory,
    private readonly options: PoolOptions,
    private readonly baseEnv: Record<string, string>,
    private readonly onError: (error: unknown, what: string) => void = () => undefined,
  ) {
    this.reaper = setInterval(() => this.removeIdle(), Math.max(100, Math.min(options.idleTimeoutMs / 2, 30_000)));
    this.reaper.unref();
  }

  /** Starts the stem cells. */
  start(): void {
    this.refillStemCells();
  }

  private memoryUsed(): number {
    let used = 0;
    for (const slot of this.slots.values()) used += slot.memoryMb;
    return used;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** A container for `key`: warm if one is free, else a stem cell, else a new one. */
  async acquire(key: string, spec: ContainerSpec, maxConcurrency: number): Promise<Lease> {
    if (spec.memoryMb > this.options.memoryBudgetMb) {
      // It could never fit: waiting would hold the activation forever.
      throw new Error(`an action of ${spec.memoryMb} MB cannot run in a container pool of ${this.options.memoryBudgetMb} MB`);
    }
    let waited = false;
    for (;;) {
      if (this.stopped) throw new Error('the container pool is shut down');
      const warm = this.findWarm(key, maxConcurrency);
      if (warm) return this.leaseWarm(warm);
      const stemCell = [...this.slots.values()].find((s) => s.state === 'prewarmed' && s.kind === spec.kind && s.memoryMb === spec.memoryMb);
      if (stemCell) {
        this.counters.prewarmed++;
        this.take(stemCell, key, maxConcurrency);
        this.refillStemCells();
        return this.lease(stemCell, 'prewarmed');
      }
      if (this.memoryUsed() + spec.memoryMb <= this.options.memoryBudgetMb || this.evictOne(key)) {
        if (this.memoryUsed() + spec.memoryMb > this.options.memoryBudgetMb) continue;
        return this.leaseCold(key, spec, maxConcurrency);
      }
      // Every container is busy and the budget is full: wait for one to be released.
      if (!waited) {
        waited = true;
        this.counters.queued++;
      }
      this.queued++;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.queued--;
    }
  }

  private findWarm(key: string, maxConcurrency: number): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots.values()) {
      if (slot.key !== key) continue;
      const free = slot.state === 'warm' || slot.state === 'paused' || (slot.state === 'running' && slot.active < maxConcurrency);
      if (free && (!best || slot.state === 'running' || slot.lastUsed > best.lastUsed)) best = slot;
    }
    return best;
  }

  private async leaseWarm(slot: Slot): Promise<Lease> {
    clearTimeout(slot.pauseTimer);
    const wasPaused = slot.state === 'paused' || slot.pausing !== undefined;
    slot.state = 'running';
    slot.active++;
    this.counters.warm++;
    if (wasPaused) {
      await slot.pausing;
      slot.pausing = undefined;
      this.counters.resumed++;
      await slot.container!.resume?.();
    }
    return this.lease(slot, 'warm');
  }

  private take(slot: Slot, key: string, maxConcurrency: number): void {
    slot.state = 'initialising';
    slot.key = key;
    slot.active = 1;
    slot.maxConcurrency = maxConcurrency;
  }

  private async leaseCold(key: string, spec: ContainerSpec, maxConcurrency: number): Promise<Lease> {
    const slot = this.newSlot(spec);
    this.take(slot, key, maxConcurrency);
    this.counters.cold++;
    try {
      slot.container = await this.factory.create({ ...spec, env: { ...this.baseEnv, ...spec.env } });
    } catch (error) {
      this.slots.delete(slot.id);
      this.wake();
      throw error;
    }
    return this.lease(slot, 'cold');
  }

  private lease(slot: Slot, start: StartKind): Lease {
    this.leases.set(slot.container!, slot);
    return {
      container: slot.container!,
      start,
      initialised: () => {
        if (slot.state === 'initialising') slot.state = 'running';
      },
    };
  }

  private newSlot(spec: { kind: string; memoryMb: number }): Slot {
    const slot: Slot = { id: this.nextId++, state: 'starting', kind: spec.kind, memoryMb: spec.memoryMb, active: 0, maxConcurrency: 1, lastUsed: Date.now() };
    this.slots.set(slot.id, slot);
    return slot;
  }

  /** Removes the least recently used idle container (warm, paused or a stem cell); false if none. */
  private evictOne(forKey: string): boolean {
    const idle = [...this.slots.values()].filter((s) => (s.state === 'warm' || s.state === 'paused' || s.state === 'prewarmed') && s.key !== forKey);
    if (idle.length === 0) return false;
    idle.sort((a, b) => a.lastUsed - b.lastUsed);
    this.counters.evicted++;
    // No stem-cell refill here: the memory is for the activation that asked.
    this.remove(idle[0], false);
    return true;
  }

  /** Gives a container back: kept warm for its key, or removed (after developer and whisk errors). */
  release(container: ActionContainer, keep: boolean): void {
    const slot = this.leases.get(container);
    if (!slot) return;
    slot.active = Math.max(0, slot.active - 1);
    if (slot.active === 0) this.leases.delete(container);
    if (!keep || this.stopped) {
      this.remove(slot);
      return;
    }
    slot.lastUsed = Date.now();
    if (slot.active === 0) {
      slot.state = 'warm';
      this.schedulePause(slot);
    }
    this.wake();
  }

  private schedulePause(slot: Slot): void {
    const container = slot.container!;
    if (!container.pause) return;
    clearTimeout(slot.pauseTimer);
    slot.pauseTimer = setTimeout(() => {
      if (slot.state !== 'warm') return;
      slot.state = 'paused';
      slot.pausing = container.pause!().catch((error: unknown) => {
        this.onError(error, 'pause');
        this.remove(slot);
      });
    }, this.options.pauseGraceMs);
    slot.pauseTimer.unref();
  }

  private remove(slot: Slot, refill = true): void {
    if (slot.state === 'removed') return;
    clearTimeout(slot.pauseTimer);
    slot.state = 'removed';
    this.slots.delete(slot.id);
    if (slot.container) this.leases.delete(slot.container);
    const container = slot.container;
    void (async () => {
      await slot.pausing;
      await container?.destroy();
    })().catch((error: unknown) => this.onError(error, 'remove'));
    this.wake();
    if (refill) this.refillStemCells();
  }

  private removeIdle(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const slot of this.slots.values()) {
      if ((slot.state === 'warm' || slot.state === 'paused') && slot.lastUsed <= cutoff) {
        this.counters.idleRemoved++;
        this.remove(slot);
      }
    }
  }

  /** Starts stem cells up to each configured count, within the memory budget (never evicting for them). */
  private refillStemCells(): void {
    // Activations waiting for memory come before stem cells.
    if (this.stopped || this.queued > 0) return;
    for (const cell of this.options.stemCells) {
      let have = [...this.slots.values()].filter((s) => s.kind === cell.kind && s.memoryMb === cell.memoryMb && (s.state === 'prewarmed' || (s.state === 'starting' && !s.key))).length;
      while (have < cell.count && this.memoryUsed() + cell.memoryMb <= this.options.memoryBudgetMb) {
        have++;
        const slot = this.newSlot(cell);
        this.factory
          .create({ kind: cell.kind, memoryMb: cell.memoryMb, env: { ...this.baseEnv }, name: `stem-cell ${cell.kind}` })
          .then(async (container) => {
            slot.container = container;
            if (slot.state === 'removed' || this.stopped) {
              await container.destroy();
              return;
            }
            slot.state = 'prewarmed';
            this.wake();
          })
          .catch((error: unknown) => {
            this.slots.delete(slot.id);
            this.onError(error, 'start a stem cell');
          });
      }
    }
  }

  status(): PoolStatus {
    const states: Record<ContainerState, number> = { starting: 0, prewarmed: 0, initialising: 0, running: 0, warm: 0, paused: 0, removed: 0 };
    const kinds: Record<string, number> = {};
    for (const slot of this.slots.values()) {
      states[slot.state]++;
      kinds[slot.kind] = (kinds[slot.kind] ?? 0) + 1;
    }
    const containers = [...this.slots.values()].map((slot) => ({
      id: slot.container?.id,
      state: slot.state,
      kind: slot.kind,
      ...(slot.key ? { action: slot.key.split('|')[1] } : {}),
    }));
    return {
      states,
      kinds,
      memoryUsedMb: this.memoryUsed(),
      memoryBudgetMb: this.options.memoryBudgetMb,
      queued: this.queued,
      containers,
      counters: { ...this.counters },
    };
  }

  /** Removes every container and fails every waiting acquire. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    const slots = [...this.slots.values()];
    this.slots.clear();
    this.wake();
    await Promise.all(
      slots.map(async (slot) => {
        clearTimeout(slot.pauseTimer);
        slot.state = 'removed';
        await slot.pausing;
        await slot.container?.destroy().catch(() => undefined);
      }),
    );
  }
}

/** `SKYWHISK_STEM_CELLS`: `kind:memory:count` items separated by commas (`nodejs:20:256:2`); empty for none. */
export function parseStemCells(value: string | undefined, fallback: StemCellConfig[]): StemCellConfig[] {
  if (value === undefined) return fallback;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^(.+):(\d+):(\d+)$/.exec(item);
      if (!match) throw new Error(`SKYWHISK_STEM_CELLS: '${item}' is not kind:memory:count`);
      return { kind: match[1], memoryMb: Number(match[2]), count: Number(match[3]) };
    });
}
