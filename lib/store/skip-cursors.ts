/** Where the records after a skip started, the last time a listing was served. */
export interface SkipCursor {
  /** The key of the last record skipped: the next page is read from past it. */
  after: Record<string, unknown>;
  /** The newest matching record's id then; those above it arrived since. */
  top: string;
  /**
   * When the chain of cursors this one continues was last walked afresh (epoch ms): records that
   * finish late inside a skipped range add up along a chain, so an old one is walked again.
   */
  anchoredAt: number;
}

/**
 * Remembers, per listing query, where the page after each skip starts, so that the next page of
 * a client paging through (`wsk activation list --skip 200`, then 400, ...) is read from there
 * instead of walking over every skipped record again. In memory, for a few minutes: a miss
 * walks, as without it.
 */
export class SkipCursors {
  private readonly cursors = new Map<string, SkipCursor & { madeAt: number }>();

  constructor(
    private readonly capacity = 1000,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): SkipCursor | undefined {
    const cursor = this.cursors.get(key);
    if (!cursor) return undefined;
    if (this.now() - cursor.madeAt > this.ttlMs) {
      this.cursors.delete(key);
      return undefined;
    }
    return { after: cursor.after, top: cursor.top, anchoredAt: cursor.anchoredAt };
  }

  set(key: string, cursor: SkipCursor): void {
    // Deleted and set again: the map's order is then least recently made first.
    this.cursors.delete(key);
    this.cursors.set(key, { ...cursor, madeAt: this.now() });
    if (this.cursors.size > this.capacity) this.cursors.delete(this.cursors.keys().next().value!);
  }
}
