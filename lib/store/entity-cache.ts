import type { EntitiesRepository, EntityType, StoredEntity } from './entities';

/** What resolving an action reads: entities by namespace, type and path. */
export type EntityReader = Pick<EntitiesRepository, 'get'>;

/** Entries kept at most; the cache starts over beyond (an invoke path touches few entities). */
const MAX_ENTRIES = 10_000;

/**
 * The controller's cache of entities for the invoke path, as OpenWhisk's controller caches
 * them: an entity read is reused for `ttlMs`, and dropped at once when this process writes it
 * (so an update followed by an invoke through the same controller always runs the new code).
 * Another controller (another Lambda instance) sees the update within `ttlMs`. Concurrent misses
 * of one entity share one read.
 */
export class EntityCache implements EntityReader {
  private readonly entries = new Map<string, { at: number; value: Promise<StoredEntity<unknown> | undefined> }>();

  constructor(
    private readonly entities: EntitiesRepository,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    entities.onChange((namespace, type, path) => this.entries.delete(keyOf(namespace, type, path)));
  }

  get<T>(namespace: string, type: EntityType, path: string): Promise<StoredEntity<T> | undefined> {
    if (this.ttlMs <= 0) return this.entities.get<T>(namespace, type, path);
    const key = keyOf(namespace, type, path);
    const cached = this.entries.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.value as Promise<StoredEntity<T> | undefined>;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const value = this.entities.get<T>(namespace, type, path);
    const entry = { at: this.now(), value: value as Promise<StoredEntity<unknown> | undefined> };
    this.entries.set(key, entry);
    // A failed read is not kept.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }
}

function keyOf(namespace: string, type: EntityType, path: string): string {
  return `${namespace}\u0000${type}\u0000${path}`;
}
