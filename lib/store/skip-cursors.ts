import { LRUCache } from 'lru-cache';

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
  private readonly cursors: LRUCache<string, SkipCursor>;

  constructor(capacity = 1000, ttlMs = 5 * 60_000) {
    this.cursors = new LRUCache({ max: capacity, ttl: ttlMs });
  }

  get(key: string): SkipCursor | undefined {
    // peek: a read does not make a cursor last longer; the least recently made one goes first.
    return this.cursors.peek(key);
  }

  set(key: string, cursor: SkipCursor): void {
    this.cursors.set(key, { ...cursor });
  }
}
