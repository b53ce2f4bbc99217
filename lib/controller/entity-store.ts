import { bumpPatch } from '../model/entity';
import type { EntityDocument } from '../model/common';
import { ConcurrentUpdateError, EntityExistsError, newRevision, type EntitiesRepository, type EntityType } from '../store/entities';
import { Messages, WhiskError } from './errors';

export type Revisioned<T> = T & { revision: string };

export { newRevision };

/** An entity of the caller's namespace, or a 404. */
export async function loadEntity<T>(entities: EntitiesRepository, namespace: string, type: EntityType, key: string): Promise<Revisioned<T>> {
  const stored = await entities.get<T>(namespace, type, key);
  if (!stored) throw new WhiskError(404, Messages.notFound);
  return { ...stored.doc, revision: stored.revision };
}

/** Writes a new revision: a create (409 when it exists) or an update of exactly the revision read (409 on a race). */
export async function saveEntity<T extends EntityDocument>(
  entities: EntitiesRepository,
  namespace: string,
  type: EntityType,
  key: string,
  entity: Revisioned<T>,
  expectedRevision: string | undefined,
): Promise<void> {
  const { revision, ...doc } = entity;
  try {
    await entities.put(namespace, type, key, doc, revision, entity.updated, expectedRevision);
  } catch (error) {
    if (error instanceof EntityExistsError) throw new WhiskError(409, Messages.exists);
    if (error instanceof ConcurrentUpdateError) throw new WhiskError(409, Messages.concurrentUpdate);
    throw error;
  }
}

/** Deletes exactly the revision read (409 when it changed meanwhile). */
export async function deleteEntity(entities: EntitiesRepository, namespace: string, type: EntityType, key: string, revision: string): Promise<void> {
  if (!(await entities.delete(namespace, type, key, revision))) throw new WhiskError(409, Messages.concurrentUpdate);
}

/** The fields every entity gets on a write: version (given, bumped, or 0.0.1), publish, a fresh revision. */
export function nextCommonFields(
  put: { version?: string; publish?: boolean },
  existing: EntityDocument | undefined,
): { version: string; publish: boolean; updated: number; revision: string } {
  return {
    version: put.version ?? (existing ? bumpPatch(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    updated: Date.now(),
    revision: newRevision(),
  };
}

/** Strips the storage revision from what the API returns. */
export function withoutRevision<T extends { revision: string }>(entity: T): Omit<T, 'revision'> {
  const { revision: _revision, ...doc } = entity;
  return doc;
}
