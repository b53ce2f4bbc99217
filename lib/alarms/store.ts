import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages } from '../store/query-pages';
import { z } from 'zod';
import { alarmSpecSchema, payloadSchema } from './spec';

/**
 * Alarms live in the entities table, all in one partition (`namespace = '#alarms'`, a name no
 * OpenWhisk namespace can have) under `key = '<triggerNamespace>/<triggerName>'`, so one Query
 * lists every alarm. Neither part of the key can contain a slash.
 */
export const ALARMS_PARTITION = '#alarms';

export const alarmStatusSchema = z.enum(['active', 'paused']);
export type AlarmStatus = z.infer<typeof alarmStatusSchema>;

export const alarmSchema = z.object({
  triggerNamespace: z.string().min(1),
  triggerName: z.string().min(1),
  /** The subject whose identity fires the trigger. */
  ownerUuid: z.string().min(1),
  spec: alarmSpecSchema,
  /** The body of every fire. */
  payload: payloadSchema,
  status: alarmStatusSchema,
  created: z.number(),
  /** Changes with every write of the definition or status (not with fires): the alarm's version. */
  updated: z.number(),
  /** The scheduled time (not the wall-clock time) of the last fire claimed. */
  lastFired: z.number().optional(),
  /** When the alarm fires next, as last computed; absent when paused or never again. */
  nextFire: z.number().optional(),
});
export type Alarm = z.infer<typeof alarmSchema>;

export class AlarmExistsError extends Error {
  override name = 'AlarmExistsError';
}

export function alarmKey(triggerNamespace: string, triggerName: string): string {
  return `${triggerNamespace}/${triggerName}`;
}

/** JSON round trip: drops undefined members anywhere (the document client may not be told to). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * The payload is user JSON, stored as its JSON text (`payloadJson`), never as a DynamoDB map: a map
 * cannot hold keys such as `constructor` or `__proto__` exactly. Earlier versions stored `payload`
 * as a map; such items are still read.
 */
function fromItem(item: Record<string, unknown> | undefined): Alarm | undefined {
  if (!item) return undefined;
  const { namespace: _namespace, key: _key, payloadJson, ...rest } = item;
  let payload: unknown = rest.payload;
  if (typeof payloadJson === 'string') {
    try {
      payload = JSON.parse(payloadJson);
    } catch {
      return undefined;
    }
  }
  const parsed = alarmSchema.safeParse({ ...rest, payload });
  return parsed.success ? parsed.data : undefined;
}

/** The item attributes of an alarm: the key, the record, and the payload as JSON text. */
function toItem(key: Record<string, string>, alarm: Alarm): Record<string, unknown> {
  const { payload, ...rest } = alarm;
  return { ...key, ...rest, payloadJson: JSON.stringify(payload) };
}

const NAMES = { '#ns': 'namespace', '#key': 'key', '#status': 'status' };

export class AlarmsRepository {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(triggerNamespace: string, triggerName: string): Record<string, string> {
    return { namespace: ALARMS_PARTITION, key: alarmKey(triggerNamespace, triggerName) };
  }

  /** The alarm of a trigger; undefined when there is none (or the stored item is not an alarm). */
  async get(triggerNamespace: string, triggerName: string): Promise<Alarm | undefined> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: this.key(triggerNamespace, triggerName), ConsistentRead: true }));
    return fromItem(Item);
  }

  /** Writes the whole record; with `ifAbsent`, an existing alarm is an AlarmExistsError. */
  async put(alarm: Alarm, options: { ifAbsent?: boolean } = {}): Promise<void> {
    const record = alarmSchema.parse(plain(alarm));
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(this.key(record.triggerNamespace, record.triggerName), record),
          ...(options.ifAbsent ? { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': 'key' } } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new AlarmExistsError(`an alarm for ${alarmKey(record.triggerNamespace, record.triggerName)} exists`);
      throw error;
    }
  }

  /**
   * Replaces the definition (owner, spec, payload, status, updated, nextFire) of an existing alarm,
   * keeping `created` and `lastFired` (a fire may have been recorded since the caller read it).
   * The stored alarm after the write, or undefined when there is none.
   */
  async update(alarm: Alarm): Promise<Alarm | undefined> {
    const record = alarmSchema.parse(plain(alarm));
    const values: Record<string, unknown> = {
      ':owner': record.ownerUuid,
      ':spec': record.spec,
      ':payload': JSON.stringify(record.payload),
      ':status': record.status,
      ':updated': record.updated,
    };
    let expression = 'SET ownerUuid = :owner, spec = :spec, payloadJson = :payload, #status = :status, updated = :updated';
    // `payload`: the map an earlier version may have stored.
    if (record.nextFire !== undefined) {
      expression += ', nextFire = :nextFire REMOVE payload';
      values[':nextFire'] = record.nextFire;
    } else {
      expression += ' REMOVE nextFire, payload';
    }
    try {
      const { Attributes } = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(record.triggerNamespace, record.triggerName),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(#key)',
          ExpressionAttributeNames: { '#key': 'key', '#status': 'status' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Deletes the alarm; false when there was none. With `ifUpdated`, only the version read (an
   * alarm redefined in the meantime stays).
   */
  async delete(triggerNamespace: string, triggerName: string, options: { ifUpdated?: number } = {}): Promise<boolean> {
    try {
      const { Attributes } = await this.dynamo.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(triggerNamespace, triggerName),
          ReturnValues: 'ALL_OLD',
          ...(options.ifUpdated !== undefined ? { ConditionExpression: 'updated = :updated', ExpressionAttributeValues: { ':updated': options.ifUpdated } } : {}),
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every alarm, in key order (items that do not parse as alarms are skipped). */
  async list(): Promise<Alarm[]> {
    const alarms: Alarm[] = [];
    const query = {
      TableName: this.table,
      KeyConditionExpression: '#ns = :ns',
      ExpressionAttributeNames: { '#ns': NAMES['#ns'] },
      ExpressionAttributeValues: { ':ns': ALARMS_PARTITION },
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.dynamo, query)) {
      for (const item of page.Items ?? []) {
        const alarm = fromItem(item);
        if (alarm) alarms.push(alarm);
      }
    }
    return alarms;
  }

  /**
   * Claims the fire of `alarm` scheduled at `scheduled`: records it as `lastFired` (and the
   * following fire as `nextFire`) only if the alarm is still the version read (`updated`), active,
   * and no fire at or after that time was claimed yet. Exactly one claimant wins, so schedulers in
   * several processes (or a restarted one) do not fire twice. False when the claim lost.
   */
  async recordFire(alarm: Alarm, scheduled: number, nextFire: number | undefined): Promise<boolean> {
    const values: Record<string, unknown> = { ':scheduled': scheduled, ':updated': alarm.updated, ':active': 'active' };
    let expression = 'SET lastFired = :scheduled';
    if (nextFire !== undefined) {
      expression += ', nextFire = :nextFire';
      values[':nextFire'] = nextFire;
    } else {
      expression += ' REMOVE nextFire';
    }
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(alarm.triggerNamespace, alarm.triggerName),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(#key) AND updated = :updated AND #status = :active AND (attribute_not_exists(lastFired) OR lastFired < :scheduled)',
          ExpressionAttributeNames: { '#key': NAMES['#key'], '#status': NAMES['#status'] },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
