import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { queryPages } from './query-pages';
import { sendUntilProcessed } from './retry';

import { randomBytes } from 'node:crypto';
import { putChunks } from './chunks';

/** `apis`: API management documents, one per base path (see lib/apis). */
export type EntityType = 'actions' | 'triggers' | 'rules' | 'packages' | 'apis';

/** The collections whose top-level names share one space per namespace, as OpenWhisk's document ids do. */
export const NAMED_TYPES = ['actions', 'triggers', 'rules', 'packages'] as const satisfies readonly EntityType[];

/** A fresh opaque revision; every write of an entity carries a new one. */
export function newRevision(): string {
  return randomBytes(8).toString('hex');
}

/** A write lost a race with another writer (optimistic concurrency). */
export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

/** The chunks an entity item names are gone: a concurrent update replaced them. */
class MissingChunksError extends Error {
  override name = 'MissingChunksError';
}

/** A create found the entity already there. */
export class EntityExistsError extends Error {
  override name = 'EntityExistsError';
}

interface EntityItem<T> {
  namespace: string;
  key: string;
  /** The document's JSON; absent when it is stored in `docChunks` chunk items. */
  docJson?: string;
  docChunks?: number;
  /** With `docChunks`: the document without its code (an action's `exec.code`), which listings show instead of reading every chunk. */
  briefJson?: string;
  /** The document as a DynamoDB map: how earlier versions stored it (read, never written). */
  doc?: T;
  revision: string;
  updated: number;
}

/**
 * A document is stored as its JSON text, never as a DynamoDB map: it holds user JSON (parameters,
 * annotations) that a map cannot represent exactly (keys such as `constructor` or `__proto__`, which
 * the document client refuses or drops, nesting past 32 levels, numbers out of DynamoDB's range).
 *
 * A DynamoDB item holds 400 KB. A document whose JSON is larger (an action with big code) is
 * stored as chunk items under `chunk/<type>/<path>/<revision>/<n>`, written before the entity item
 * that names them, so a reader never sees an entity whose chunks are missing.
 */
const MAX_INLINE_DOC_BYTES = 300 * 1024;

export interface StoredEntity<T> {
  doc: T;
  revision: string;
  updated: number;
}

function entityKey(type: EntityType, path: string): string {
  return `${type}/${path}`;
}

function chunkPrefix(type: EntityType, path: string, revision: string): string {
  return `chunk/${type}/${path}/${revision}/`;
}

/** Told after each write of an entity made through this repository (a cache of this process drops it). */
export type EntityChangeListener = (namespace: string, type: EntityType, path: string) => void;

/**
 * Entities keyed by namespace and `type/path`. Every write carries a fresh revision; updates are
 * conditional on the revision read, so two concurrent updates cannot both win.
 */
export class EntitiesRepository {
  private readonly changeListeners: EntityChangeListener[] = [];

  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  onChange(listener: EntityChangeListener): void {
    this.changeListeners.push(listener);
  }

  private changed(namespace: string, type: EntityType, path: string): void {
    for (const listener of this.changeListeners) listener(namespace, type, path);
  }

  async get<T>(namespace: string, type: EntityType, path: string): Promise<StoredEntity<T> | undefined> {
    // An update may replace the chunks between reading the entity and reading its chunks; then
    // the entity is read again, and names the new chunks.
    for (let attempt = 0; ; attempt++) {
      const { Item } = await this.dynamo.send(
        new GetCommand({ TableName: this.table, Key: { namespace, key: entityKey(type, path) }, ConsistentRead: true }),
      );
      if (!Item) return undefined;
      try {
        return await this.stored(namespace, type, path, Item as EntityItem<T>);
      } catch (error) {
        if (!(error instanceof MissingChunksError) || attempt >= 3) throw error;
      }
    }
  }

  private async stored<T>(namespace: string, type: EntityType, path: string, item: EntityItem<T>): Promise<StoredEntity<T>> {
    const doc = item.docChunks
      ? await this.readChunks<T>(namespace, chunkPrefix(type, path, item.revision), item.docChunks)
      : item.docJson !== undefined
        ? (JSON.parse(item.docJson) as T)
        : item.doc!;
    return { doc, revision: item.revision, updated: item.updated };
  }

  /** Every item of a namespace whose key starts with `prefix`, all pages. */
  private async queryPrefix<I>(namespace: string, prefix: string, consistent = false): Promise<I[]> {
    const items: I[] = [];
    const query = {
      TableName: this.table,
      KeyConditionExpression: '#ns = :ns AND begins_with(#k, :prefix)',
      ExpressionAttributeNames: { '#ns': 'namespace', '#k': 'key' },
      ExpressionAttributeValues: { ':ns': namespace, ':prefix': prefix },
      ConsistentRead: consistent,
    };
    for await (const page of queryPages(this.dynamo, query)) items.push(...((page.Items ?? []) as I[]));
    return items;
  }

  private chunkItems(namespace: string, prefix: string): Promise<Array<{ key: string; data: Uint8Array }>> {
    return this.queryPrefix(namespace, prefix, true);
  }

  private async readChunks<T>(namespace: string, prefix: string, expected: number): Promise<T> {
    const chunks = await this.chunkItems(namespace, prefix);
    if (chunks.length !== expected) throw new MissingChunksError(prefix);
    return JSON.parse(Buffer.concat(chunks.map((c) => c.data)).toString('utf8')) as T;
  }

  private writeChunks(namespace: string, prefix: string, json: Buffer): Promise<number> {
    return putChunks(this.dynamo, this.table, json, (n) => ({ namespace, key: `${prefix}${String(n).padStart(4, '0')}` }));
  }

  private async deleteChunks(namespace: string, prefix: string): Promise<void> {
    const chunks = await this.chunkItems(namespace, prefix);
    await Promise.all(chunks.map((c) => this.dynamo.send(new DeleteCommand({ TableName: this.table, Key: { namespace, key: c.key } }))));
  }

  /**
   * Writes the entity. `expectedRevision` undefined means create (fails if present);
   * a string means update of exactly that revision.
   */
  async put<T>(
    namespace: string,
    type: EntityType,
    path: string,
    doc: T,
    revision: string,
    updated: number,
    expectedRevision?: string,
  ): Promise<void> {
    // Before the write, too: a read racing it must not cache what it replaces for long.
    this.changed(namespace, type, path);
    const text = JSON.stringify(doc);
    const json = Buffer.from(text, 'utf8');
    const chunked = json.length > MAX_INLINE_DOC_BYTES;
    const item: EntityItem<T> = chunked
      ? { namespace, key: entityKey(type, path), docChunks: await this.writeChunks(namespace, chunkPrefix(type, path, revision), json), ...briefOf(doc), revision, updated }
      : { namespace, key: entityKey(type, path), docJson: text, revision, updated };
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'key' } }
            : {
                ConditionExpression: '#r = :r',
                ExpressionAttributeNames: { '#r': 'revision' },
                ExpressionAttributeValues: { ':r': expectedRevision },
              }),
        }),
      );
    } catch (error) {
      if (chunked) await this.deleteChunks(namespace, chunkPrefix(type, path, revision));
      if (error instanceof ConditionalCheckFailedException) {
        throw expectedRevision === undefined ? new EntityExistsError(path) : new ConcurrentUpdateError(path);
      }
      throw error;
    }
    this.changed(namespace, type, path);
    if (expectedRevision !== undefined) await this.deleteChunks(namespace, chunkPrefix(type, path, expectedRevision));
  }

  /** Deletes exactly the revision read; returns false when it had already changed or gone. */
  async delete(namespace: string, type: EntityType, path: string, expectedRevision: string): Promise<boolean> {
    try {
      await this.dynamo.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { namespace, key: entityKey(type, path) },
          ConditionExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': 'revision' },
          ExpressionAttributeValues: { ':r': expectedRevision },
        }),
      );
      this.changed(namespace, type, path);
      await this.deleteChunks(namespace, chunkPrefix(type, path, expectedRevision));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Which of the named collections hold a top-level entity called `name` in the namespace: one
   * consistent batch read of the four keys, whatever their documents' size.
   */
  async collectionsHolding(namespace: string, name: string): Promise<Array<(typeof NAMED_TYPES)[number]>> {
    const keys: Array<Record<string, unknown>> = NAMED_TYPES.map((type) => ({ namespace, key: entityKey(type, name) }));
    const found: string[] = [];
    await sendUntilProcessed(keys, 'entity name reads', async (batch) => {
      const answer = await this.dynamo.send(
        new BatchGetCommand({ RequestItems: { [this.table]: { Keys: batch, ProjectionExpression: '#k', ExpressionAttributeNames: { '#k': 'key' }, ConsistentRead: true } } }),
      );
      for (const item of answer.Responses?.[this.table] ?? []) found.push(String(item.key));
      return answer.UnprocessedKeys?.[this.table]?.Keys ?? [];
    });
    return NAMED_TYPES.filter((type) => found.includes(entityKey(type, name)));
  }

  /**
   * Every entity of a type in a namespace (optionally inside one package), newest update first. An
   * action stored in chunks (large code) is listed without its code (`exec.code` is empty): a
   * listing never reads every action's code; `get` reads one whole.
   */
  async list<T>(namespace: string, type: EntityType, pkg?: string): Promise<StoredEntity<T>[]> {
    const prefix = pkg ? `${type}/${pkg}/` : `${type}/`;
    const items = await this.queryPrefix<EntityItem<T>>(namespace, prefix);
    items.sort((a, b) => b.updated - a.updated);
    return Promise.all(
      items.map((item) =>
        item.docChunks && item.briefJson !== undefined
          ? { doc: JSON.parse(item.briefJson) as T, revision: item.revision, updated: item.updated }
          : this.stored(namespace, type, item.key.slice(type.length + 1), item),
      ),
    );
  }
}

/** A chunked document's brief, when it is an action whose code made it large and the rest fits inline. */
function briefOf(doc: unknown): { briefJson?: string } {
  const exec = (doc as { exec?: { code?: unknown } } | undefined)?.exec;
  if (!exec || typeof exec.code !== 'string') return {};
  const briefJson = JSON.stringify({ ...(doc as object), exec: { ...exec, code: '' } });
  return Buffer.byteLength(briefJson) <= MAX_INLINE_DOC_BYTES ? { briefJson } : {};
}
