import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export type EntityType = 'actions' | 'triggers' | 'rules' | 'packages';

/** A write lost a race with another writer (optimistic concurrency). */
export class ConcurrentUpdateError extends Error {
  override name = 'ConcurrentUpdateError';
}

/** A create found the entity already there. */
export class EntityExistsError extends Error {
  override name = 'EntityExistsError';
}

interface EntityItem<T> {
  namespace: string;
  key: string;
  doc: T;
  revision: string;
  updated: number;
}

export interface StoredEntity<T> {
  doc: T;
  revision: string;
  updated: number;
}

function entityKey(type: EntityType, path: string): string {
  return `${type}/${path}`;
}

/**
 * Entities (actions now; triggers, rules, packages later) keyed by namespace and `type/path`.
 * Every write carries a fresh revision; updates are conditional on the revision read, so two
 * concurrent updates cannot both win.
 */
export class EntitiesRepository {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get<T>(namespace: string, type: EntityType, path: string): Promise<StoredEntity<T> | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { namespace, key: entityKey(type, path) } }),
    );
    if (!Item) return undefined;
    const item = Item as EntityItem<T>;
    return { doc: item.doc, revision: item.revision, updated: item.updated };
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
    const item: EntityItem<T> = { namespace, key: entityKey(type, path), doc, revision, updated };
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
      if (error instanceof ConditionalCheckFailedException) {
        throw expectedRevision === undefined ? new EntityExistsError(path) : new ConcurrentUpdateError(path);
      }
      throw error;
    }
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
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every entity of a type in a namespace (optionally inside one package), newest update first. */
  async list<T>(namespace: string, type: EntityType, pkg?: string): Promise<StoredEntity<T>[]> {
    const prefix = pkg ? `${type}/${pkg}/` : `${type}/`;
    const items: EntityItem<T>[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#ns = :ns AND begins_with(#k, :prefix)',
          ExpressionAttributeNames: { '#ns': 'namespace', '#k': 'key' },
          ExpressionAttributeValues: { ':ns': namespace, ':prefix': prefix },
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      items.push(...((page.Items ?? []) as EntityItem<T>[]));
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return items
      .sort((a, b) => b.updated - a.updated)
      .map((item) => ({ doc: item.doc, revision: item.revision, updated: item.updated }));
  }
}
