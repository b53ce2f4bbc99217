import type { ActionContainer, ContainerFactory, ContainerSpec } from './container';
import { ContainerLife, IDLE_STATES, type ActionBinding, type StateName } from './container-life';
import { initialTargets, memoryUsed, placeHead, planStemCells, type ContainerView, type Placement, type RunRequest, type StemCellConfig } from './pool-policy';

export type { StemCellConfig } from './pool-policy';

export interface PoolOptions {
  /** Memory all action containers may use together. */
  memoryBudgetMb: number;
  /** An idle warm container is paused after this long (where the factory can pause). */
  pauseGraceMs: number;
  /** An idle (warm or paused) container is removed after this long. */
  idleTimeoutMs: number;
  /** Started, uninitialised containers kept per kind and memory size. */
  stemCells: StemCellConfig[];
  /** How often reactive stem cells grow for cold starts and expire (OpenWhisk's prewarm-expiration-check-interval). */
  prewarmCheckIntervalMs?: number;
}

/** A stem cell that failed to start this many times in a row is not tried again until the next check (OpenWhisk's prewarm-max-retry-limit). */
const STEM_CELL_RETRY_LIMIT = 5;

/** How long after a stem cell is taken its replacement starts at the latest (its /init and first /run take a few ms). */
const STEM_CELL_REFILL_DELAY_MS = 250;

const SHUT_DOWN = 'the container pool is shut down';

/** What a lease says about how the activation got its container. */
export type StartKind = 'warm' | 'prewarmed' | 'cold';

export interface Lease {
  container: ActionContainer;
  start: StartKind;
  /** Call when /init succeeded: the container is running the activation. */
  initialised(): void;
  /** Gives the container back: kept warm for its key, or removed (after developer and whisk errors). Once per lease; later calls do nothing. */
  release(keep: boolean): void;
}

type ReportedState = Exclude<StateName, 'removed'>;

export interface PoolStatus {
  states: Record<ReportedState, number>;
  kinds: Record<string, number>;
  memoryUsedMb: number;
  memoryBudgetMb: number;
  queued: number;
  /** Stem cells wanted now, per `kind:memory`. */
  stemCellTargets: Record<string, number>;
  /** Each container: its id, state, kind, and the action it serves (`namespace/path`) once initialised. */
  containers: Array<{ id?: string; state: ReportedState; kind: string; memoryMb: number; action?: string }>;
  counters: {
    cold: number;
    prewarmed: number;
    warm: number;
    resumed: number;
    evicted: number;
    idleRemoved: number;
    queued: number;
    /** Containers whose removal finished. */
    removed: number;
    /** Idle containers that exited on their own. */
    died: number;
    failedPauses: number;
    failedResumes: number;
    stemCellsStarted: number;
    stemCellsRetired: number;
  };
}

interface PendingRun {
  request: RunRequest;
  spec: ContainerSpec;
  resolve: (lease: Lease) => void;
  reject: (error: Error) => void;
  counted: boolean;
}

/**
 * The invoker's container pool: each container's life is a `ContainerLife`, every decision is a
 * pure function of `pool-policy`, and this class carries them out. Activations are served from one
 * first-in, first-out queue: warm reuse by key, else a stem cell of the kind and memory, else a new
 * container after evicting idle ones (least recently used first), else the head waits for a release.
 */
export class ContainerPool {
  private readonly lives = new Map<number, ContainerLife>();
  private readonly queue: PendingRun[] = [];
  private readonly pauseTimers = new Map<number, NodeJS.Timeout>();
  private readonly removals = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Creations under way (cold starts and stem cells), which a shutdown waits for. */
  private readonly creating = new Set<Promise<void>>();
  /** Each stem cell not yet taken, by life id: the index of its config. */
  private readonly stemCellConfigOf = new Map<number, number>();
  private readonly counters: PoolStatus['counters'] = {
    cold: 0,
    prewarmed: 0,
    warm: 0,
    resumed: 0,
    evicted: 0,
    idleRemoved: 0,
    queued: 0,
    removed: 0,
    died: 0,
    failedPauses: 0,
    failedResumes: 0,
    stemCellsStarted: 0,
    stemCellsRetired: 0,
  };
  private targets: number[];
  private coldStarts: number[];
  private stemCellFailures: number[];
  private nextId = 1;
  private stopped = false;
  private draining = false;
  private refillScheduled = false;

  constructor(
    private readonly factory: ContainerFactory,
    private readonly options: PoolOptions,
    private readonly baseEnv: Record<string, string>,
    private readonly onError: (error: unknown, what: string) => void = () => undefined,
  ) {
    this.targets = initialTargets(options.stemCells);
    this.coldStarts = options.stemCells.map(() => 0);
    this.stemCellFailures = options.stemCells.map(() => 0);
  }

  /** Starts the stem cells and the periodic checks (idle removal, reactive prewarm). */
  start(): void {
    const reaper = setInterval(() => this.removeIdle(), Math.max(100, Math.min(this.options.idleTimeoutMs / 2, 30_000)));
    const prewarmCheck = setInterval(() => this.checkStemCells(), this.options.prewarmCheckIntervalMs ?? 60_000);
    for (const timer of [reaper, prewarmCheck]) {
      timer.unref();
      this.timers.push(timer);
    }
    this.refillStemCells(false);
  }

  /** A container for `key`: warm if one is free, else a stem cell, else a new one; queued (in order) while memory is short. */
  acquire(key: string, spec: ContainerSpec, maxConcurrency: number): Promise<Lease> {
    if (spec.memoryMb > this.options.memoryBudgetMb) {
      // It could never fit: waiting would hold the activation forever.
      return Promise.reject(new Error(`an action of ${spec.memoryMb} MB cannot run in a container pool of ${this.options.memoryBudgetMb} MB`));
    }
    if (this.stopped) return Promise.reject(new Error(SHUT_DOWN));
    return new Promise<Lease>((resolve, reject) => {
      this.queue.push({ request: { key, kind: spec.kind, memoryMb: spec.memoryMb, maxConcurrency }, spec, resolve, reject, counted: false });
      this.drain();
    });
  }

  private release(life: ContainerLife, keep: boolean): void {
    // A container removed meanwhile (died, or the pool shut down) is not held: its life says so.
    const next = life.release(keep && !this.stopped, Date.now());
    if (next === 'remove') this.remove(life);
    else if (next === 'warm') this.schedulePause(life);
    this.drain();
  }

  private views(): ContainerView[] {
    return [...this.lives.values()].map((life) => {
      const state = life.state;
      return {
        id: life.id,
        state: state.name,
        kind: life.kind,
        memoryMb: life.memoryMb,
        ...(life.action ? { key: life.action.key, maxConcurrency: life.action.maxConcurrency } : { maxConcurrency: 1 }),
        active: life.active,
        lastUsed: life.lastUsed,
        ...(life.doomed ? { doomed: true } : {}),
        ...(state.name === 'prewarmed' ? { since: state.since } : {}),
      };
    });
  }

  /** Starts what the queue's head (and then each next one) can start now. */
  private drain(): void {
    // Removals and releases inside a drain call back here; the loop below sees their effects.
    if (this.draining || this.stopped) return;
    this.draining = true;
    let tookStemCell = false;
    try {
      for (;;) {
        const placement = placeHead(
          this.queue.map((p) => p.request),
          this.views(),
          this.options.memoryBudgetMb,
        );
        if (!placement) break;
        if (placement.how === 'prewarmed') tookStemCell = true;
        this.carryOut(this.queue.shift()!, placement);
      }
      const head = this.queue[0];
      if (head && !head.counted) {
        head.counted = true;
        this.counters.queued++;
      }
    } finally {
      this.draining = false;
    }
    // A taken stem cell is replaced when its activation gives it back, or a moment later for a
    // long one: starting a container now would compete for the CPU with its /init and /run.
    if (!tookStemCell) this.scheduleRefill();
    else setTimeout(() => this.scheduleRefill(), STEM_CELL_REFILL_DELAY_MS).unref();
  }

  /**
   * Refills stem cells once the current turn is done: starting a container takes milliseconds of
   * synchronous work, which would otherwise delay whatever this turn set going.
   */
  private scheduleRefill(): void {
    if (this.refillScheduled || this.stopped || this.options.stemCells.length === 0) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      this.refillStemCells(false);
    });
  }

  private carryOut(pending: PendingRun, placement: Exclude<Placement, { how: 'wait' }>): void {
    const now = Date.now();
    const action: ActionBinding = { key: pending.request.key, maxConcurrency: pending.request.maxConcurrency };
    if (placement.how === 'cold') {
      for (const id of placement.evict) {
        this.counters.evicted++;
        this.remove(this.lives.get(id)!);
      }
      this.startCold(pending, action);
      return;
    }
    const life = this.lives.get(placement.id)!;
    if (placement.how === 'prewarmed') {
      const state = life.state;
      if (state.name !== 'prewarmed') throw new Error(`placement chose a ${state.name} stem cell`);
      this.counters.prewarmed++;
      // A cell that lived to be taken: its config starts cleanly.
      const config = this.stemCellConfigOf.get(life.id);
      if (config !== undefined) this.stemCellFailures[config] = 0;
      this.stemCellConfigOf.delete(life.id);
      life.initialising(state.container, action);
      pending.resolve(this.lease(life, state.container, 'prewarmed'));
      return;
    }
    const state = life.state;
    if (state.name === 'warm' || state.name === 'running') {
      this.clearPauseTimer(life);
      life.leaseRunning(now);
      this.counters.warm++;
      pending.resolve(this.lease(life, state.container, 'warm'));
      return;
    }
    // Frozen: thaw (after any pause under way); on failure the container goes and the activation is placed again.
    const container = life.container!;
    void life.leaseFrozen(now).then((outcome) => {
      if (outcome === 'ready' && !this.stopped) {
        this.counters.warm++;
        this.counters.resumed++;
        pending.resolve(this.lease(life, container, 'warm'));
        return;
      }
      if (outcome === 'resume failed' && life.state.name === 'resuming') {
        this.counters.failedResumes++;
        this.onError(new Error(`container ${container.id} could not be resumed`), 'resume');
      }
      // A failed pause is counted and reported where the pause settles (schedulePause).
      this.remove(life);
      if (this.stopped) pending.reject(new Error(SHUT_DOWN));
      else {
        this.queue.unshift(pending);
        this.drain();
      }
    });
  }

  private startCold(pending: PendingRun, action: ActionBinding): void {
    const { spec } = pending;
    const life = this.newLife(spec.kind, spec.memoryMb, action);
    this.counters.cold++;
    const config = this.options.stemCells.findIndex((c) => c.kind === spec.kind && c.memoryMb === spec.memoryMb);
    if (config >= 0 && !spec.image) this.coldStarts[config]++;
    const created = this.factory.create({ ...spec, env: { ...this.baseEnv, ...spec.env } }).then(
      (container) => {
        if (life.state.name !== 'starting') {
          // Removed while starting: only a shutdown does that.
          pending.reject(new Error(SHUT_DOWN));
          return container
            .destroy()
            .catch(() => undefined)
            .finally(() => this.forget(life));
        }
        this.adopt(life, container);
        life.initialising(container, action);
        pending.resolve(this.lease(life, container, 'cold'));
      },
      (error: Error) => {
        life.beginRemoval();
        this.forget(life);
        pending.reject(error);
        this.drain();
      },
    );
    this.track(created);
  }

  private track(creation: Promise<void>): void {
    const tracked = creation.finally(() => this.creating.delete(tracked));
    this.creating.add(tracked);
  }

  private newLife(kind: string, memoryMb: number, action: ActionBinding | undefined): ContainerLife {
    const life = new ContainerLife(this.nextId++, kind, memoryMb, action, Date.now());
    this.lives.set(life.id, life);
    return life;
  }

  /** The container is the life's: releases find it, and its exit removes it when idle. */
  private adopt(life: ContainerLife, container: ActionContainer): void {
    container.onExit?.(() => {
      if (life.state.name === 'removing' || life.state.name === 'removed') return;
      // Whoever holds it gives it back; an idle one goes now and is never leased.
      life.doomed = true;
      const config = this.stemCellConfigOf.get(life.id);
      if (config !== undefined) {
        // A stem cell that dies before use counts as one that failed to start, so a broken image is not restarted forever.
        this.stemCellFailures[config]++;
        this.onError(new Error(`stem cell ${container.id} (${life.kind}) exited before it was used`), 'keep a stem cell');
      }
      if (IDLE_STATES.has(life.state.name)) {
        this.counters.died++;
        this.remove(life);
        this.drain();
      }
    });
  }

  private lease(life: ContainerLife, container: ActionContainer, start: StartKind): Lease {
    let released = false;
    return {
      container,
      start,
      initialised: () => life.initialised(),
      release: (keep) => {
        if (released) return;
        released = true;
        this.release(life, keep);
      },
    };
  }

  private schedulePause(life: ContainerLife): void {
    const container = life.container;
    if (!container?.pause) return;
    this.clearPauseTimer(life);
    const timer = setTimeout(() => {
      this.pauseTimers.delete(life.id);
      const done = life.pause();
      void done?.then((ok) => {
        if (!ok) {
          this.counters.failedPauses++;
          this.onError(new Error(`container ${container.id} could not be paused`), 'pause');
          // An activation waiting on the thaw is placed again by its own path (carryOut).
          if (life.state.name === 'pausing') this.remove(life);
        }
        // Paused or removed, the container may now make room for the queue's head.
        this.drain();
      });
    }, this.options.pauseGraceMs);
    timer.unref();
    this.pauseTimers.set(life.id, timer);
  }

  private clearPauseTimer(life: ContainerLife): void {
    clearTimeout(this.pauseTimers.get(life.id));
    this.pauseTimers.delete(life.id);
  }

  /** Starts the removal (memory is free at once) and destroys the container in the background. */
  private remove(life: ContainerLife): void {
    this.clearPauseTimer(life);
    const removal = life.beginRemoval();
    if (!removal) return;
    if (!removal.container) return; // still starting: its create sees the removal and destroys what it made
    const destroyed = (async () => {
      if (removal.pause) await removal.pause;
      await removal.container!.destroy();
    })()
      .catch((error: unknown) => this.onError(error, 'remove'))
      .finally(() => {
        this.forget(life);
        this.removals.delete(destroyed);
      });
    this.removals.add(destroyed);
  }

  private forget(life: ContainerLife): void {
    this.stemCellConfigOf.delete(life.id);
    life.removed();
    if (this.lives.delete(life.id)) this.counters.removed++;
  }

  private removeIdle(): void {
    const cutoff = Date.now() - this.options.idleTimeoutMs;
    for (const life of [...this.lives.values()]) {
      const state = life.state;
      if ((state.name === 'warm' || state.name === 'paused') && state.idleSince <= cutoff) {
        this.counters.idleRemoved++;
        this.remove(life);
      }
    }
    this.drain();
  }

  private checkStemCells(): void {
    this.stemCellFailures = this.stemCellFailures.map(() => 0);
    this.refillStemCells(true);
  }

  private refillStemCells(check: boolean): void {
    if (this.stopped || this.options.stemCells.length === 0) return;
    const plan = planStemCells({
      configs: this.options.stemCells,
      targets: this.targets,
      containers: this.views(),
      coldStarts: this.coldStarts,
      now: Date.now(),
      check,
      budgetMb: this.options.memoryBudgetMb,
      queueWaiting: this.queue.length > 0,
    });
    this.targets = plan.targets;
    if (check) this.coldStarts = this.coldStarts.map(() => 0);
    for (const id of plan.retire) {
      this.counters.stemCellsRetired++;
      this.remove(this.lives.get(id)!);
    }
    for (const index of plan.start) {
      if (this.stemCellFailures[index] < STEM_CELL_RETRY_LIMIT) this.startStemCell(index);
    }
  }

  private startStemCell(index: number): void {
    const config = this.options.stemCells[index];
    const life = this.newLife(config.kind, config.memoryMb, undefined);
    this.stemCellConfigOf.set(life.id, index);
    this.counters.stemCellsStarted++;
    const ready = async (): Promise<void> => {
      const container = await this.factory.create({ kind: config.kind, memoryMb: config.memoryMb, env: { ...this.baseEnv }, name: `stem-cell ${config.kind}` });
      try {
        // The first request into a fresh runtime pays its connection and cold code paths: here, not in an activation.
        if (life.state.name === 'starting') await container.warmUp?.();
      } catch (error) {
        await container.destroy().catch(() => undefined);
        throw error;
      }
      if (life.state.name !== 'starting' || this.stopped) {
        await container.destroy().catch(() => undefined);
        this.forget(life);
        return;
      }
      this.adopt(life, container);
      life.prewarmed(container, Date.now());
      this.drain();
    };
    this.track(
      ready().catch((error: unknown) => {
        this.stemCellFailures[index]++;
        life.beginRemoval();
        this.forget(life);
        this.onError(error, 'start a stem cell');
        // Its memory is free again: the queue's head may fit now.
        this.drain();
      }),
    );
  }

  status(): PoolStatus {
    const states: Record<ReportedState, number> = {
      starting: 0,
      prewarmed: 0,
      initialising: 0,
      running: 0,
      warm: 0,
      pausing: 0,
      paused: 0,
      resuming: 0,
      removing: 0,
    };
    const kinds: Record<string, number> = {};
    const containers: PoolStatus['containers'] = [];
    for (const life of this.lives.values()) {
      const name = life.state.name;
      if (name === 'removed') continue;
      states[name]++;
      kinds[life.kind] = (kinds[life.kind] ?? 0) + 1;
      const key = life.action?.key;
      containers.push({ id: life.container?.id, state: name, kind: life.kind, memoryMb: life.memoryMb, ...(key ? { action: key.split('|')[1] } : {}) });
    }
    const stemCellTargets = Object.fromEntries(this.options.stemCells.map((c, i) => [`${c.kind}:${c.memoryMb}`, this.targets[i]]));
    return {
      states,
      kinds,
      memoryUsedMb: memoryUsed(this.views()),
      memoryBudgetMb: this.options.memoryBudgetMb,
      queued: this.queue.length,
      stemCellTargets,
      containers,
      counters: { ...this.counters },
    };
  }

  /** Removes every container and fails every waiting acquire. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const timer of this.pauseTimers.values()) clearTimeout(timer);
    this.pauseTimers.clear();
    for (const pending of this.queue.splice(0)) pending.reject(new Error(SHUT_DOWN));
    for (const life of [...this.lives.values()]) this.remove(life);
    // Containers still being made are destroyed as their creation ends.
    await Promise.all([...this.creating, ...this.removals]);
  }
}
