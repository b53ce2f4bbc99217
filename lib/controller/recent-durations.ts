import { LRUCache } from 'lru-cache';

/**
 * How long each action's activations ran lately, as this controller saw their records. A blocking
 * wait that has to poll the store (the last resort: an activation that went through the queue,
 * or whose answer did not come back on its connection) first sleeps for most of that, instead of
 * reading the store every few milliseconds through a long run.
 */
export class RecentDurations {
  private readonly byKey: LRUCache<string, number>;

  constructor(capacity = 1000) {
    this.byKey = new LRUCache({ max: capacity });
  }

  /** Notes a run of `durationMs`; recent runs weigh more than old ones. */
  note(key: string, durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs < 0) return;
    const previous = this.byKey.peek(key);
    // Set again: the least recently noted key goes first.
    this.byKey.set(key, previous === undefined ? durationMs : previous * 0.7 + durationMs * 0.3);
  }

  /** The run time to expect of `key`'s next activation, if any was noted. */
  expected(key: string): number | undefined {
    return this.byKey.peek(key);
  }
}
