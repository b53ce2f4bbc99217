import { bumpPatch } from '../model/entity';
import type { EntityDocument } from '../model/common';
import { ConcurrentUpdateError, EntityExistsError, NAMED_TYPES, newRevision, type EntitiesRepository, type EntityType } from '../store/entities';
import { Messages, WhiskError } from './errors';

export type Revisioned<T> = T & { revision: string };

export { newRevision };

/**
 * Whether a top-level `key` of a named collection is held by an entity of another one: OpenWhisk
 * keys every entity by `namespace/name`, so an action, trigger, rule and package never share a name
 * (package members, `pkg/name`, are actions only and cannot clash).
 */
export async function heldByOtherCollection(entities: EntitiesRepository, namespace: string, type: EntityType, key: string): Promise<boolean> {
  if (key.includes('/') || !(NAMED_TYPES as readonly EntityType[]).includes(type)) return false;
  const holders: EntityType[] = await entities.collectionsHolding(namespace, key);
  return !holders.includes(type) && holders.length > 0;
}

/**
 * Runs `read`; its 404 becomes OpenWhisk's 409 when `name` (a top-level name in the caller's own
 * namespace: another namespace's names are never revealed) belongs to another collection than `type`.
 */
export async function conforming<T>(entities: EntitiesRepository, caller: string, namespace: string, type: EntityType, name: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof WhiskError && error.status === 404 && namespace === caller) throw await notFoundError(entities, namespace, type, name);
    throw error;
  }
}

/**
 * A create's first check, before its body's references are validated (OpenWhisk reads the
 * document id first): a 409 when another collection holds the name. Two creates racing for one
 * name in two collections can both pass it, where OpenWhisk's single document id would refuse one;
 * the embedded endpoint has no transactions to close that window.
 */
export async function checkNameFree(entities: EntitiesRepository, namespace: string, type: EntityType, key: string): Promise<void> {
  if (await heldByOtherCollection(entities, namespace, type, key)) throw new WhiskError(409, Messages.otherCollection);
}

/** The 404 for a missing entity, or OpenWhisk's 409 when the name belongs to another collection. */
export async function notFoundError(entities: EntitiesRepository, namespace: string, type: EntityType, key: string): Promise<WhiskError> {
  return (await heldByOtherCollection(entities, namespace, type, key)) ? new WhiskError(409, Messages.otherCollection) : new WhiskError(404, Messages.notFound);
}

/** An entity of the caller's namespace, or a 404 (a 409 when another collection holds the name). */
export async function loadEntity<T>(entities: EntitiesRepository, namespace: string, type: EntityType, key: string): Promise<Revisioned<T>> {
  const stored = await entities.get<T>(namespace, type, key);
  if (!stored) throw await notFoundError(entities, namespace, type, key);
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
