import { DeleteCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages } from './query-pages';

export type RateKind = 'invocations' | 'fires';

/**
 * An in-flight slot is a lease that counts until its deadline. An accepted activation is normally
 * recorded within minutes (its timeout is at most 5 min), so a lease this old was leaked (a process
 * died between storing the record and giving the slot back) or waits behind a long backlog: either
 * way it stops counting, and the throttle errs on the side of admitting.
 */
export const SLOT_LEASE_MS = 15 * 60_000;

/**
 * Per-namespace throttle counters in the coordination table, shared by every controller (each
 * Lambda instance) and invoker, so the limits hold however many run.
 * - `throttle#<ns>` / `<kind>#<minute>`: requests in one fixed minute window, as OpenWhisk counts
 *   them (one atomic ADD).
 * - `slots#<ns>` / `<activation id>`: one lease per activation accepted and not yet ended in a
 *   record. Giving one back is a delete, which may be repeated safely: whoever finds the record
 *   stored (the invoker, a duplicate delivery, the dead-letter drainer) gives the slot back, so a
 *   crash between the two writes leaks nothing. Admission counts the live leases and adds one; two
 *   controllers admitting at the same instant may both pass at limit - 1 (OpenWhisk's own count is
 *   per controller and looser still).
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

  /** Takes a slot for `activationId` unless `limit` are held; `count` is the number held (this one included when admitted). */
  async acquireSlot(namespace: string, activationId: string, limit: number, now = Date.now()): Promise<{ admitted: boolean; count: number }> {
    const held = await this.slots(namespace, now, limit);
    if (held >= limit) return { admitted: false, count: held };
    await this.dynamo.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: slotsPkOf(namespace), sk: activationId, deadline: now + SLOT_LEASE_MS, expiresAt: Math.ceil((now + SLOT_LEASE_MS) / 1000) + 3600 },
      }),
    );
    return { admitted: true, count: held + 1 };
  }

  /** Gives back the slot of an activation; giving it back again, or one never taken, does nothing. */
  async releaseSlot(namespace: string, activationId: string): Promise<void> {
    await this.dynamo.send(new DeleteCommand({ TableName: this.table, Key: { pk: slotsPkOf(namespace), sk: activationId } }));
  }

  /**
   * Every live slot lease of every namespace, with when it was taken. A scan: for reconciliation
   * only, which runs when the queues are empty (few leases then).
   */
  async *leases(now = Date.now()): AsyncGenerator<{ namespace: string; activationId: string; takenAt: number }> {
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.dynamo.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :slots) AND deadline > :now',
          ExpressionAttributeValues: { ':slots': SLOTS_PREFIX, ':now': now },
          ConsistentRead: true,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        yield { namespace: String(item.pk).slice(SLOTS_PREFIX.length), activationId: String(item.sk), takenAt: Number(item.deadline) - SLOT_LEASE_MS };
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);
  }

  /** Live slots of the namespace, counted up to `atMost` (admission needs no more). */
  async slots(namespace: string, now = Date.now(), atMost = Infinity): Promise<number> {
    let count = 0;
    const query = {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'deadline > :now',
      ExpressionAttributeValues: { ':pk': slotsPkOf(namespace), ':now': now },
      Select: 'COUNT' as const,
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.dynamo, query)) {
      count += page.Count ?? 0;
      if (count >= atMost) break;
    }
    return count;
  }
}

function pkOf(namespace: string): string {
  return `throttle#${namespace}`;
}

const SLOTS_PREFIX = 'slots#';

function slotsPkOf(namespace: string): string {
  return `${SLOTS_PREFIX}${namespace}`;
}
