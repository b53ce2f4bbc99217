import type { ActionContainer, ContainerFactory, ContainerSpec } from './container';

interface IdleContainer {
  container: ActionContainer;
  idleSince: number;
}

/**
 * Initialised containers kept for reuse, keyed by invocation namespace + action + revision, so a
 * new revision never gets an old container. Idle containers are removed after `idleTimeoutMs`.
 * (The full pool, with prewarmed stem cells, pausing and a memory budget, replaces this.)
 */
export class WarmPool {
  private readonly idle = new Map<string, IdleContainer[]>();
  private readonly busy = new Set<ActionContainer>();
  private readonly reaper: NodeJS.Timeout;

  constructor(
    private readonly factory: ContainerFactory,
    private readonly idleTimeoutMs: number,
  ) {
    this.reaper = setInterval(() => void this.reap(), Math.min(idleTimeoutMs, 30_000));
    this.reaper.unref();
  }

  /** A warm container for `key`, or a new (uninitialised) one. */
  async acquire(key: string, spec: ContainerSpec): Promise<{ container: ActionContainer; warm: boolean }> {
    const warm = this.idle.get(key)?.pop();
    if (warm) {
      this.busy.add(warm.container);
      return { container: warm.container, warm: true };
    }
    const container = await this.factory.create(spec);
    this.busy.add(container);
    return { container, warm: false };
  }

  release(key: string, container: ActionContainer): void {
    this.busy.delete(container);
    const list = this.idle.get(key) ?? [];
    list.push({ container, idleSince: Date.now() });
    this.idle.set(key, list);
  }

  async discard(container: ActionContainer): Promise<void> {
    this.busy.delete(container);
    await container.destroy();
  }

  counts(): { idle: number; busy: number } {
    let idle = 0;
    for (const list of this.idle.values()) idle += list.length;
    return { idle, busy: this.busy.size };
  }

  private async reap(): Promise<void> {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const [key, list] of this.idle) {
      const expired = list.filter((c) => c.idleSince <= cutoff);
      if (expired.length === 0) continue;
      const kept = list.filter((c) => c.idleSince > cutoff);
      if (kept.length) this.idle.set(key, kept);
      else this.idle.delete(key);
      await Promise.all(expired.map((c) => c.container.destroy()));
    }
  }

  /** Destroys every container, idle or busy. */
  async shutdown(): Promise<void> {
    clearInterval(this.reaper);
    const all = [...this.busy, ...[...this.idle.values()].flat().map((c) => c.container)];
    this.idle.clear();
    this.busy.clear();
    await Promise.all(all.map((c) => c.destroy().catch(() => undefined)));
  }
}
