import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SUBJECTS_BY_NAMESPACE_INDEX } from './tables';
import type { UserLimits } from '../model/limits';

/** The identity a key authenticates: one key, one namespace (as in OpenWhisk). */
export interface Identity {
  subject: string;
  namespace: string;
  uuid: string;
  limits: Partial<UserLimits>;
  /** An operator: may read platform status (`GET /invokers`). */
  admin?: true;
}

interface SubjectItem {
  uuid: string;
  subject: string;
  namespace: string;
  /** sha256 of the key: keys are 64 random characters, so a fast hash is enough and none is stored in clear. */
  keyHash: string;
  limits?: Partial<UserLimits>;
  admin?: boolean;
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh `uuid:key` pair in OpenWhisk's format (64 alphanumeric characters). */
export function generateCredentials(): { uuid: string; key: string } {
  const bytes = randomBytes(64);
  const key = Array.from(bytes, (b) => KEY_ALPHABET[b % KEY_ALPHABET.length]).join('');
  return { uuid: randomUUID(), key };
}

export class SubjectsRepository {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(params: { uuid: string; key: string; subject: string; namespace: string; limits?: Partial<UserLimits>; admin?: boolean }): Promise<void> {
    const item: SubjectItem = {
      uuid: params.uuid,
      subject: params.subject,
      namespace: params.namespace,
      keyHash: hashKey(params.key).toString('hex'),
      limits: params.limits,
      ...(params.admin ? { admin: true } : {}),
    };
    await this.dynamo.send(new PutCommand({ TableName: this.table, Item: item }));
  }

  /** The identity for `uuid:key`, or undefined when the pair does not authenticate. */
  async authenticate(uuid: string, key: string): Promise<Identity | undefined> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { uuid } }));
    const item = Item as SubjectItem | undefined;
    // Hash even when the subject is missing so both paths cost the same.
    const presented = hashKey(key);
    const stored = item ? Buffer.from(item.keyHash, 'hex') : hashKey(randomUUID());
    if (!item || !timingSafeEqual(presented, stored)) return undefined;
    return identityOf(item);
  }

  /** The identity that owns a namespace (web actions run as their owner); undefined when none does. */
  async byNamespace(namespace: string): Promise<Identity | undefined> {
    const [item] = await this.subjectsOf(namespace, 1);
    return item && identityOf(item);
  }

  /** The subjects owning a namespace (up to `limit`). */
  private async subjectsOf(namespace: string, limit?: number): Promise<SubjectItem[]> {
    const { Items } = await this.dynamo.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: SUBJECTS_BY_NAMESPACE_INDEX,
        KeyConditionExpression: '#ns = :ns',
        ExpressionAttributeNames: { '#ns': 'namespace' },
        ExpressionAttributeValues: { ':ns': namespace },
        Limit: limit,
      }),
    );
    return (Items ?? []) as SubjectItem[];
  }

  /**
   * Merges throttle overrides into those of every subject of a namespace (OpenWhisk keeps limits per
   * namespace, and `wskadmin limits set` merges): the given ones are set, the others kept. Each key
   * is written on its own, so concurrent calls setting different limits do not undo each other.
   * Answers each subject's overrides after the merge (none when no subject owns the namespace).
   */
  async setLimits(namespace: string, limits: Partial<UserLimits>): Promise<{ uuid: string; limits: Partial<UserLimits> }[]> {
    const entries = Object.entries(limits).filter(([, value]) => value !== undefined);
    if (entries.length === 0) throw new Error('setLimits needs at least one limit');
    const owners = await this.subjectsOf(namespace);
    const merged: { uuid: string; limits: Partial<UserLimits> }[] = [];
    for (const item of owners) {
      const common = { TableName: this.table, Key: { uuid: item.uuid }, ConditionExpression: 'attribute_exists(#uuid)' };
      // A document path can only be set inside an existing map: create it first when the subject has none.
      await this.dynamo.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: 'SET limits = if_not_exists(limits, :empty)',
          ExpressionAttributeNames: { '#uuid': 'uuid' },
          ExpressionAttributeValues: { ':empty': {} },
        }),
      );
      const { Attributes } = await this.dynamo.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: `SET ${entries.map((_, i) => `limits.#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: { '#uuid': 'uuid', ...Object.fromEntries(entries.map(([key], i) => [`#k${i}`, key])) },
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
          ReturnValues: 'ALL_NEW',
        }),
      );
      merged.push({ uuid: item.uuid, limits: (Attributes as SubjectItem | undefined)?.limits ?? {} });
    }
    return merged;
  }

  /** The identity of a subject by its uuid, without a key (internal callers such as the alarm scheduler). */
  async byUuid(uuid: string): Promise<Identity | undefined> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { uuid } }));
    return Item ? identityOf(Item as SubjectItem) : undefined;
  }
}

function identityOf(item: SubjectItem): Identity {
  return { subject: item.subject, namespace: item.namespace, uuid: item.uuid, limits: item.limits ?? {}, ...(item.admin ? { admin: true as const } : {}) };
}
