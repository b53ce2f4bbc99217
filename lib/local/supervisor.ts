import { stopProcess, type ManagedProcess } from './processes';

export type SupervisedName = 'controller' | 'invoker';

export interface SupervisorEvents {
  /** A process exited on its own and was replaced. */
  onRestart?(name: SupervisedName, exitCode: number | string): void;
  /** A process kept crashing (or its replacement would not start): the platform cannot go on. */
  onGiveUp?(name: SupervisedName, reason: string): void;
}

/** More crashes than this within a minute is a crash loop: the supervisor stops replacing. */
const MAX_RESTARTS_PER_MINUTE = 5;
const FIRST_BACKOFF_MS = 200;

/**
 * Keeps the controller and invoker running, the way ECS replaces a failed task: a process that
 * exits without being asked to is started again with the same settings, after a short backoff
 * that doubles with each crash in the last minute.
 */
export class Supervisor {
  private readonly current = new Map<SupervisedName, ManagedProcess>();
  private readonly starters = new Map<SupervisedName, () => Promise<ManagedProcess>>();
  private readonly pending = new Map<SupervisedName, Promise<void>>();
  private readonly crashes = new Map<SupervisedName, number[]>();
  /** Processes stopped on purpose (a restart or the platform's stop): not replaced. */
  private readonly intentional = new WeakSet<ManagedProcess>();
  private stopped = false;
  readonly restarts: Record<SupervisedName, number> = { controller: 0, invoker: 0 };

  constructor(private readonly events: SupervisorEvents = {}) {}

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
  async restart(name: SupervisedName, graceMs: number): Promise<void> {
    await this.stopOne(name, graceMs);
    this.adopt(name, await this.starters.get(name)!());
  }

  async stopOne(name: SupervisedName, graceMs: number): Promise<void> {
    await this.replacement(name);
    const proc = this.get(name);
    this.intentional.add(proc);
    await stopProcess(proc, graceMs);
  }

  /** No more replacements; waits for any being started. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.pending.values());
  }

  private adopt(name: SupervisedName, proc: ManagedProcess): void {
    this.current.set(name, proc);
    void proc.exited.then((code) => {
      if (this.stopped || this.intentional.has(proc) || this.current.get(name) !== proc) return;
      const replacing = this.replace(name, code).finally(() => this.pending.delete(name));
      this.pending.set(name, replacing);
    });
  }

  private async replace(name: SupervisedName, code: number | string): Promise<void> {
    const now = Date.now();
    const recent = [...(this.crashes.get(name) ?? []).filter((t) => t > now - 60_000), now];
    this.crashes.set(name, recent);
    if (recent.length > MAX_RESTARTS_PER_MINUTE) {
      this.events.onGiveUp?.(name, `${name} crashed ${recent.length} times within a minute (last exit: ${code})`);
      return;
    }
    await new Promise((r) => setTimeout(r, FIRST_BACKOFF_MS * 2 ** (recent.length - 1)));
    if (this.stopped) return;
    try {
      this.adopt(name, await this.starters.get(name)!());
      this.restarts[name]++;
      this.events.onRestart?.(name, code);
    } catch (error) {
      this.events.onGiveUp?.(name, error instanceof Error ? error.message : String(error));
    }
  }
}
