import type { ActionContainer } from './container';
import { withDeadline } from './deadline';

/**
 * One container's life, as OpenWhisk's ContainerProxy keeps it: a closed set of states, each with
 * the data that state needs, and one `transition()` that refuses any change not drawn below.
 *
 *   starting ──> prewarmed ──> initialising ──> running <──> warm ──> pausing ──> paused
 *      │                            ^              ^           ^         │          │
 *      └────────── (cold) ──────────┘              └─ resuming <──────────┴──────────┘
 *
 * Any state but removed can go to removing (evicted, idle, failed, died), and removing ends in
 * removed. A failed pause or resume removes the container; the pool runs the activation that was
 * waiting for it elsewhere, so it is neither lost nor run twice.
 */

/** The action a container serves once initialised: invocation namespace + action + revision. */
export interface ActionBinding {
  key: string;
  /** How many activations may share the container (the action's concurrency limit). */
  maxConcurrency: number;
}

export type LifeState =
  /** Being created: for an activation (`forAction`, a cold start) or as a stem cell. */
  | { name: 'starting'; forAction?: ActionBinding }
  /** Started, not initialised: a stem cell waiting for any action of its kind and memory. */
  | { name: 'prewarmed'; container: ActionContainer; since: number }
  /** Leased to its first activation, whose /init is under way. */
  | { name: 'initialising'; container: ActionContainer; action: ActionBinding }
  | { name: 'running'; container: ActionContainer; action: ActionBinding; active: number }
  | { name: 'warm'; container: ActionContainer; action: ActionBinding; idleSince: number }
  /** Being frozen; `done` settles true when it froze, false when the pause failed. */
  | { name: 'pausing'; container: ActionContainer; action: ActionBinding; idleSince: number; done: Promise<boolean> }
  | { name: 'paused'; container: ActionContainer; action: ActionBinding; idleSince: number }
  /** Being thawed for `active` activations that wait for it, after `pause` if one was still under way. */
  | { name: 'resuming'; container: ActionContainer; action: ActionBinding; active: number; pause?: Promise<boolean> }
  | { name: 'removing'; container?: ActionContainer }
  | { name: 'removed' };

export type StateName = LifeState['name'];

const ALLOWED: Record<StateName, readonly StateName[]> = {
  starting: ['prewarmed', 'initialising', 'removing'],
  prewarmed: ['initialising', 'removing'],
  // Straight to warm when a release keeps a container whose init was never reported.
  initialising: ['running', 'warm', 'removing'],
  running: ['running', 'warm', 'removing'],
  warm: ['running', 'pausing', 'removing'],
  pausing: ['paused', 'resuming', 'removing'],
  paused: ['resuming', 'removing'],
  resuming: ['resuming', 'running', 'removing'],
  removing: ['removed'],
  removed: [],
};

/** How waiting for a frozen container ended. */
export type ThawOutcome = 'ready' | 'pause failed' | 'resume failed' | 'removed';

/** Docker's pause and unpause, like OpenWhisk's, fail after this long (a hung engine must not hold an activation). */
export const PAUSE_RESUME_TIMEOUT_MS = 10_000;

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/** States whose container nobody is using: it may be evicted, and removed if it dies. */
export const IDLE_STATES: ReadonlySet<StateName> = new Set(['prewarmed', 'warm', 'pausing', 'paused']);

export class ContainerLife {
  private current: LifeState;
  /**
   * The container is not to be reused: it exited on its own, or an activation sharing it failed.
   * It is removed once the last activation holding it gives it back.
   */
  doomed = false;
  lastUsed: number;

  constructor(
    readonly id: number,
    readonly kind: string,
    readonly memoryMb: number,
    forAction: ActionBinding | undefined,
    now: number,
  ) {
    this.current = { name: 'starting', ...(forAction ? { forAction } : {}) };
    this.lastUsed = now;
  }

  get state(): LifeState {
    return this.current;
  }

  /** Moves to `next`, or throws when the drawing above has no such arrow. */
  transition(next: LifeState): void {
    if (!ALLOWED[this.current.name].includes(next.name)) {
      throw new IllegalTransitionError(`container ${this.id}: ${this.current.name} -> ${next.name} is not a legal change`);
    }
    this.current = next;
  }

  /** The container, in every state that has one. */
  get container(): ActionContainer | undefined {
    return 'container' in this.current ? this.current.container : undefined;
  }

  get action(): ActionBinding | undefined {
    const state = this.current;
    if (state.name === 'starting') return state.forAction;
    return 'action' in state ? state.action : undefined;
  }

  /** Activations holding the container now. */
  get active(): number {
    const state = this.current;
    if (state.name === 'initialising') return 1;
    if (state.name === 'running' || state.name === 'resuming') return state.active;
    if (state.name === 'starting' && state.forAction) return 1;
    return 0;
  }

  /** The stem cell started: it waits for an action. */
  prewarmed(container: ActionContainer, now: number): void {
    this.transition({ name: 'prewarmed', container, since: now });
  }

  /** A fresh container (cold start or stem cell) is leased to its first activation. */
  initialising(container: ActionContainer, action: ActionBinding): void {
    this.transition({ name: 'initialising', container, action });
  }

  /** /init succeeded: the container now runs its first activation. */
  initialised(): void {
    const state = this.current;
    if (state.name !== 'initialising') return;
    this.transition({ name: 'running', container: state.container, action: state.action, active: 1 });
  }

  /** One more activation on an unfrozen container (warm, or running below its concurrency). */
  leaseRunning(now: number): void {
    const state = this.current;
    if (state.name !== 'warm' && state.name !== 'running') throw new IllegalTransitionError(`container ${this.id}: cannot lease a ${state.name} container`);
    this.lastUsed = now;
    this.transition({ name: 'running', container: state.container, action: state.action, active: this.active + 1 });
  }

  /**
   * One more activation on a paused (or pausing) container: it waits for the thaw. `ready` means
   * the container now runs it; anything else means the container is unusable and the activation
   * must go elsewhere.
   */
  leaseFrozen(now: number): Promise<ThawOutcome> {
    const state = this.current;
    this.lastUsed = now;
    if (state.name === 'resuming') {
      this.transition({ ...state, active: state.active + 1 });
      return this.thawing!;
    }
    if (state.name !== 'paused' && state.name !== 'pausing') throw new IllegalTransitionError(`container ${this.id}: cannot resume a ${state.name} container`);
    const pause = state.name === 'pausing' ? state.done : undefined;
    this.transition({ name: 'resuming', container: state.container, action: state.action, active: 1, ...(pause ? { pause } : {}) });
    this.thawing = this.thaw(state.container, pause);
    return this.thawing;
  }

  private thawing?: Promise<ThawOutcome>;

  private async thaw(container: ActionContainer, pause: Promise<boolean> | undefined): Promise<ThawOutcome> {
    if (pause && !(await pause)) return 'pause failed';
    if (this.current.name !== 'resuming') return 'removed';
    try {
      if (container.resume) await withDeadline(container.resume(), PAUSE_RESUME_TIMEOUT_MS, `no unpause in ${PAUSE_RESUME_TIMEOUT_MS} ms`);
    } catch {
      return 'resume failed';
    }
    const state = this.current;
    if (state.name !== 'resuming') return 'removed';
    this.thawing = undefined;
    this.transition({ name: 'running', container, action: state.action, active: state.active });
    return 'ready';
  }

  /** An activation gave the container back, to keep (`keep`) or not. Returns what the life does next. */
  release(keep: boolean, now: number): 'still running' | 'warm' | 'remove' | 'not held' {
    const state = this.current;
    // A release of a container nobody holds (a second release of one lease) changes nothing.
    if (state.name !== 'running' && state.name !== 'initialising') return 'not held';
    if (!keep) this.doomed = true;
    this.lastUsed = now;
    const active = this.active - 1;
    if (active > 0) {
      // Others still run here: the container goes when the last of them is done.
      this.transition({ name: 'running', container: state.container, action: state.action, active });
      return 'still running';
    }
    if (this.doomed) return 'remove';
    this.transition({ name: 'warm', container: state.container, action: state.action, idleSince: now });
    return 'warm';
  }

  /** Starts freezing an idle warm container; the promise settles true when frozen, false when the pause failed. */
  pause(): Promise<boolean> | undefined {
    const state = this.current;
    if (state.name !== 'warm' || !state.container.pause) return undefined;
    const done = withDeadline(state.container.pause(), PAUSE_RESUME_TIMEOUT_MS, `no pause in ${PAUSE_RESUME_TIMEOUT_MS} ms`).then(
      () => true,
      () => false,
    );
    this.transition({ name: 'pausing', container: state.container, action: state.action, idleSince: state.idleSince, done });
    void done.then((ok) => {
      const now = this.current;
      if (ok && now.name === 'pausing' && now.done === done) this.transition({ name: 'paused', container: now.container, action: now.action, idleSince: now.idleSince });
    });
    return done;
  }

  /** Starts removal; the container (if any) is destroyed after any pause under way has settled. */
  beginRemoval(): { container?: ActionContainer; pause?: Promise<boolean> } | undefined {
    const state = this.current;
    if (state.name === 'removing' || state.name === 'removed') return undefined;
    const container = this.container;
    const pause = state.name === 'pausing' ? state.done : state.name === 'resuming' ? state.pause : undefined;
    this.transition({ name: 'removing', ...(container ? { container } : {}) });
    return { ...(container ? { container } : {}), ...(pause ? { pause } : {}) };
  }

  removed(): void {
    if (this.current.name === 'removing') this.transition({ name: 'removed' });
  }
}
