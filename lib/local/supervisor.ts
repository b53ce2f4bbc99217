import { stopProcess, type ManagedProcess } from './processes';

export type SupervisedName = 'endpoint' | 'controller' | 'invoker';

export interface SupervisorEvents {
  /** A process exited on its own and was replaced. */
  onRestart?(name: SupervisedName, exitCode: number | string): void;
  /** A process could not be started again, however often it was tried: the platform cannot go on. */
  onGiveUp?(name: SupervisedName, reason: string): void;
}

/** Replacement starts that fail in a row before the supervisor gives up: the process cannot start at all. */
const MAX_FAILED_STARTS = 5;
const FIRST_BACKOFF_MS = 200;
/** The backoff doubles with each crash in the last minute, up to this (unless told otherwise). */
const MAX_BACKOFF_MS = 30_000;
/** Grace for a process that finished starting after shutdown() was asked for, unless shutdown() says. */
const SHUTDOWN_GRACE_MS = 60_000;

/**
 * Keeps the endpoint, controller and invoker running, the way ECS replaces a failed task: a process that
 * exits without being asked to is started again with the same settings, after a short backoff
 * that doubles with each crash in the last minute (at most 30 s). A process that keeps crashing
 * (which a tenant's action could try to cause) is replaced for as long as it starts; the
 * supervisor gives up only when five starts in a row fail.
 *
 * Every operation on a name (crash replacement, restart, stop) runs one at a time, so two of them
 * never both start a process; and a stop asked for while a start is under way wins: the process
 * that start produces is stopped rather than adopted.
 */
export class Supervisor {
  private readonly current = new Map<SupervisedName, ManagedProcess>();
  private readonly starters = new Map<SupervisedName, () => Promise<ManagedProcess>>();
  /** The tail of each name's queue of operations (never rejects). */
  private readonly queue = new Map<SupervisedName, Promise<void>>();
  private readonly pending = new Map<SupervisedName, Promise<void>>();
  private readonly crashes = new Map<SupervisedName, number[]>();
  /** Bumped by each stop request: an operation requested before it must not adopt what it starts. */
  private readonly stops = new Map<SupervisedName, { count: number; graceMs: number }>();
  /** Processes stopped on purpose (a restart or the platform's stop): not replaced. */
  private readonly intentional = new WeakSet<ManagedProcess>();
  private stopped = false;
  readonly restarts: Record<SupervisedName, number> = { endpoint: 0, controller: 0, invoker: 0 };

  constructor(
    private readonly events: SupervisorEvents = {},
    private readonly maxBackoffMs = MAX_BACKOFF_MS,
  ) {}

  async add(name: SupervisedName, start: () => Promise<ManagedProcess>): Promise<ManagedProcess> {
    const proc = await start();
    this.starters.set(name, start);
    this.adopt(name, proc);
    return proc;
  }

  get(name: SupervisedName): ManagedProcess {
    return this.current.get(name)!;
  }

  /** Resolves once the replacement of a crashed process, when one is being started, is ready. */
  replacement(name: SupervisedName): Promise<void> {
    return this.pending.get(name) ?? Promise.resolve();
  }

  /** Stops a process (SIGTERM, then SIGKILL after `graceMs`) and starts it again. */
  restart(name: SupervisedName, graceMs: number): Promise<void> {
    const ticket = this.stopCount(name);
    return this.serially(name, async () => {
      if (this.stopCount(name) !== ticket) return; // a stop asked for after this restart wins
      await this.stopCurrent(name, graceMs);
      await this.startAndAdopt(name, ticket);
    });
  }

  stopOne(name: SupervisedName, graceMs: number): Promise<void> {
    this.requestStop(name, graceMs);
    return this.serially(name, () => this.stopCurrent(name, graceMs));
  }

  /** No more replacements; waits for any operation under way (what it starts is stopped, with `graceMs`). */
  async shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopped = true;
    for (const name of this.starters.keys()) this.requestStop(name, graceMs);
    await Promise.all(this.queue.values());
  }

  private stopCount(name: SupervisedName): number {
    return this.stops.get(name)?.count ?? 0;
  }

  private requestStop(name: SupervisedName, graceMs: number): void {
    this.stops.set(name, { count: this.stopCount(name) + 1, graceMs });
    // Now, not when the queued stop runs: a crash in between must not be replaced.
    const proc = this.current.get(name);
    if (proc) this.intentional.add(proc);
  }

  /** Runs `op` after every operation already queued for `name`. */
  private serially(name: SupervisedName, op: () => Promise<void>): Promise<void> {
    const run = (this.queue.get(name) ?? Promise.resolve()).then(op);
    this.queue.set(name, run.catch(() => undefined));
    return run;
  }

  private async stopCurrent(name: SupervisedName, graceMs: number): Promise<void> {
    const proc = this.current.get(name);
    if (!proc) return;
    this.intentional.add(proc);
    await stopProcess(proc, graceMs);
  }

  /** Starts `name`; adopts the process unless a stop was asked for since `ticket`. Throws if it would not start. */
  private async startAndAdopt(name: SupervisedName, ticket: number): Promise<boolean> {
    const proc = await this.starters.get(name)!();
    const stop = this.stops.get(name);
    if ((stop?.count ?? 0) !== ticket) {
      this.intentional.add(proc);
      await stopProcess(proc, stop!.graceMs);
      return false;
    }
    this.adopt(name, proc);
    return true;
  }

  private adopt(name: SupervisedName, proc: ManagedProcess): void {
    this.current.set(name, proc);
    void proc.exited.then((code) => {
      if (this.stopped || this.intentional.has(proc) || this.current.get(name) !== proc) return;
      // Set synchronously, so that whoever awaits `exited` next can await the replacement.
      const ticket = this.stopCount(name);
      const replacing = this.serially(name, () => this.replace(name, code, ticket)).finally(() => {
        if (this.pending.get(name) === replacing) this.pending.delete(name);
      });
      this.pending.set(name, replacing);
    });
  }

  /** Replaces a crashed process; a start that fails counts as one more crash and is retried. */
  private async replace(name: SupervisedName, code: number | string, ticket: number): Promise<void> {
    let failedStarts = 0;
    for (;;) {
      const now = Date.now();
      const recent = [...(this.crashes.get(name) ?? []).filter((t) => t > now - 60_000), now];
      this.crashes.set(name, recent);
      await new Promise((r) => setTimeout(r, Math.min(this.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** (recent.length - 1))));
      if (this.stopCount(name) !== ticket) return;
      try {
        if (!(await this.startAndAdopt(name, ticket))) return;
        this.restarts[name]++;
        this.events.onRestart?.(name, code);
        return;
      } catch (error) {
        failedStarts++;
        if (failedStarts >= MAX_FAILED_STARTS) {
          const reason = error instanceof Error ? error.message : String(error);
          this.events.onGiveUp?.(name, `${name} could not be started again (${failedStarts} attempts after exit ${code}; last: ${reason})`);
          return;
        }
      }
    }
  }
}
