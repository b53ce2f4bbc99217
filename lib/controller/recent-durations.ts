/**
 * How long each action's activations ran lately, as this controller saw their records. A blocking
 * wait that has to poll the store (the last resort: an activation that went through the queue,
 * or whose answer did not come back on its connection) first sleeps for most of that, instead of
 * reading the store every few milliseconds through a long run.
 */
export class RecentDurations {
  private readonly byKey = new Map<string, number>();

  constructor(private readonly capacity = 1000) {}

  /** Notes a run of `durationMs`; recent runs weigh more than old ones. */
  note(key: string, durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs < 0) return;
    const previous = this.byKey.get(key);
    // Deleted and set again: the map's order is then least recently noted first.
    this.byKey.delete(key);
    this.byKey.set(key, previous === undefined ? durationMs : previous * 0.7 + durationMs * 0.3);
    if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
  }

  /** The run time to expect of `key`'s next activation, if any was noted. */
  expected(key: string): number | undefined {
    return this.byKey.get(key);
  }
}
