import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type RateKind = 'invocations' | 'fires';

/**
 * A concurrency count that has not moved for this long while above zero has leaked (a process died
 * between storing a record and giving back its slot): every activation ends within its timeout
 * (at most 5 min) plus queueing, so nothing real stays in flight this long without any change.
 */
const STALE_SLOTS_MS = 15 * 60_000;

/**
 * Per-namespace throttle counters in the coordination table, shared by every controller (each
 * Lambda instance) and invoker: atomic DynamoDB updates, so the limits hold however many run.
 * - `throttle#<ns>` / `<kind>#<minute>`: requests in one fixed minute window, as OpenWhisk counts them.
 * - `throttle#<ns>` / `concurrent`: activations accepted and not yet ended in a record.
 */
export class ThrottleCounters {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Counts one request in the current minute and returns the minute's count, this one included. */
  async countInMinute(namespace: string, kind: RateKind, now = Date.now()): Promise<number> {
    const minute = Math.floor(now / 60_000);
    const { Attributes } = await this.dynamo.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: pkOf(namespace), sk: `${kind}#${minute}` },
        UpdateExpression: 'ADD #c :one SET expiresAt = :expires',
        ExpressionAttributeNames: { '#c': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':expires': (minute + 3) * 60 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.count ?? 1);
  }

  /** Takes one in-flight slot unless `limit` are taken; `count` is the number in flight (this one included when admitted). */
  async acquireSlot(namespace: string, limit: number, now = Date.now()): Promise<{ admitted: boolean; count: number }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { Attributes } = await this.dynamo.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: pkOf(namespace), sk: 'concurrent' },
            UpdateExpression: 'ADD #c :one SET changedAt = :now',
            ConditionExpression: 'attribute_not_exists(#c) OR #c < :limit',
            ExpressionAttributeNames: { '#c': 'count' },
            ExpressionAttributeValues: { ':one': 1, ':now': now, ':limit': limit },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { admitted: true, count: Number(Attributes?.count ?? 1) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const held = await this.slots(namespace);
        if (attempt === 0 && held.count > 0 && held.changedAt < now - STALE_SLOTS_MS && (await this.resetLeaked(namespace, held.changedAt, now))) continue;
        return { admitted: false, count: held.count };
      }
    }
  }

  /** Gives back a slot taken by `acquireSlot` (never below zero). */
  async releaseSlot(namespace: string, now = Date.now()): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(namespace), sk: 'concurrent' },
          UpdateExpression: 'ADD #c :minusOne SET changedAt = :now',
          ConditionExpression: '#c > :zero',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0, ':now': now },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Activations of the namespace in flight, as counted. */
  async slots(namespace: string): Promise<{ count: number; changedAt: number }> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { pk: pkOf(namespace), sk: 'concurrent' }, ConsistentRead: true }),
    );
    return { count: Number(Item?.count ?? 0), changedAt: Number(Item?.changedAt ?? 0) };
  }

  /** Zeroes a count that leaked, unless something changed it since it was read. */
  private async resetLeaked(namespace: string, seenChangedAt: number, now: number): Promise<boolean> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: pkOf(namespace), sk: 'concurrent' },
          UpdateExpression: 'SET #c = :zero, changedAt = :now',
          ConditionExpression: 'changedAt = :seen',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':zero': 0, ':now': now, ':seen': seenChangedAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function pkOf(namespace: string): string {
  return `throttle#${namespace}`;
}
