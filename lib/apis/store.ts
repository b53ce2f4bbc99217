import { ConcurrentUpdateError, EntityExistsError, newRevision, type EntitiesRepository } from '../store/entities';
import type { SwaggerDoc } from './swagger';

/** One namespace's API of one base path, as stored (an entity of type `apis`). */
export interface StoredApi {
  doc: SwaggerDoc;
  revision: string;
}

/** The entity key of a base path's API (the path its entity changes are reported under). */
export const apiKeyOf = (basePath: string) => encodeURIComponent(basePath);

/** API management documents in the entities table, one per namespace and base path. */
export class ApisRepository {
  constructor(private readonly entities: EntitiesRepository) {}

  async get(namespace: string, basePath: string): Promise<StoredApi | undefined> {
    const stored = await this.entities.get<SwaggerDoc>(namespace, 'apis', apiKeyOf(basePath));
    return stored && { doc: stored.doc, revision: stored.revision };
  }

  /** Every API of a namespace, newest change first. */
  async list(namespace: string): Promise<StoredApi[]> {
    return (await this.entities.list<SwaggerDoc>(namespace, 'apis')).map((s) => ({ doc: s.doc, revision: s.revision }));
  }

  /**
   * Applies `change` to the stored document of `basePath` (or to `fresh()` when there is none) and
   * writes the result, again from a fresh read when another writer got there first. `change`
   * returning undefined deletes the API.
   */
  async update(namespace: string, basePath: string, fresh: () => SwaggerDoc | undefined, change: (doc: SwaggerDoc) => SwaggerDoc | undefined): Promise<SwaggerDoc | undefined> {
    for (let attempt = 0; ; attempt++) {
      const stored = await this.get(namespace, basePath);
      const start = stored ? stored.doc : fresh();
      if (!start) return undefined;
      const next = change(structuredClone(start));
      try {
        if (next === undefined) {
          // Changed or gone since it was read: read it again.
          if (stored && !(await this.entities.delete(namespace, 'apis', apiKeyOf(basePath), stored.revision)) && attempt < 4) continue;
        } else {
          await this.entities.put(namespace, 'apis', apiKeyOf(basePath), next, newRevision(), Date.now(), stored?.revision);
        }
        return next;
      } catch (error) {
        if (!(error instanceof ConcurrentUpdateError || error instanceof EntityExistsError) || attempt >= 4) throw error;
      }
    }
  }
}
