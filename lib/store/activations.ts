import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { highestIdAt, lowestIdAt } from '../model/activation-id';
import type { ActivationMessage, ActivationRecord } from '../model/activation';
import { ACTIVATIONS_BY_NAME_INDEX } from './tables';
import { putChunks } from './chunks';
import { queryPages } from './query-pages';
import type { SkipCursor, SkipCursors } from './skip-cursors';

/**
 * One item per activation id. An invoker first *claims* the id (a conditional put that only the
 * first delivery of a message wins), then replaces the claim with the finished record. Reads only
 * ever show finished records.
 */
type ActivationItem =
  | {
      namespace: string;
      activationId: string;
      state: 'running';
      invoker: string;
      claimToken?: string;
      claimedAt: number;
      expiresAt: number;
      /** `claimKeyOf(invoker)`: puts the claim in the name index under its holder (see claimsHeldBy). */
      nameKey?: string;
      /** What a record made for the claim without its message needs. */
      about?: ClaimedActivation;
      /** Written by a controller in the holder's name (see claimOnBehalf), not by the holder. */
      onBehalf?: boolean;
    }
  | {
      namespace: string;
      activationId: string;
      state: 'done';
      nameKey: string;
      start: number;
      expiresAt: number;
      /**
       * The record as gzipped JSON; or, when that is too big for one item, gzipped JSON in
       * `recordChunks` chunk items (`<id>.c0000`, ...). Never a DynamoDB map: a record holds user
       * JSON (parameters, results) that a map cannot represent exactly (keys such as `constructor`
       * or `__proto__`, which the document client refuses or drops, nesting past 32 levels).
       */
      recordGz?: Uint8Array;
      recordChunks?: number;
      /** The record as a map: how earlier versions stored small records (read, never written). */
      record?: ActivationRecord;
    };

/** Keep well under DynamoDB's 400 KB item limit (attribute names and the index copy count too). */
const MAX_INLINE_GZ_BYTES = 300 * 1024;

function chunkKey(activationId: string, n: number): string {
  return `${activationId}.c${String(n).padStart(4, '0')}`;
}

export interface ListActivationsQuery {
  /** `name` or `pkg/name` of the action. */
  name?: string;
  since?: number;
  upto?: number;
  limit: number;
  skip: number;
}

/** What a claim keeps of its activation, so that it can be ended in a record by anyone. */
export interface ClaimedActivation {
  subject: string;
  action: { namespace: string; path: string; revision: string };
  cause?: string;
  transactionId: string;
  acceptedAt: number;
  /** Admitted by a controller (so counted in its namespace's in flight), unlike a composition's component. */
  admitted?: boolean;
}

/** What a claim keeps of an activation's message; `admitted`: a top-level one, counted in flight. */
export function claimedActivationOf(message: ActivationMessage, admitted: boolean): ClaimedActivation {
  const { subject, action, cause, transactionId, acceptedAt } = message;
  return { subject, action, cause, transactionId, acceptedAt, ...(admitted ? { admitted } : {}) };
}

/** A claim found by its holder: enough to end it in a whisk error record. */
export interface HeldClaim extends ClaimedActivation {
  namespace: string;
  activationId: string;
  claimedAt: number;
  /** Written by a controller in the holder's name: its time says nothing of whether the holder lived then. */
  onBehalf?: boolean;
  /** The claim as it was read: a record made for it lands only while this very claim is there. */
  claimToken?: string;
}

/**
 * Claims sit in the name index under their holder. No namespace name starts with `#`, so this
 * never meets a `namespace#path` key of finished records.
 */
function claimKeyOf(invoker: string): string {
  return `#claim#${invoker}`;
}

/** A chain of skip cursors older than this is walked afresh (see list). */
const CURSOR_CHAIN_MS = 60_000;

/** The listing query a skip cursor belongs to, and the skip it is for. */
function cursorKeyOf(namespace: string, query: ListActivationsQuery, skip: number): string {
  return JSON.stringify([namespace, query.name ?? null, query.since ?? null, query.upto ?? null, skip]);
}

/** The attributes of a listing query's keys: the table's, and the name index's too when by name. */
function keyAttributesOf(query: ListActivationsQuery): string[] {
  return query.name !== undefined ? ['namespace', 'activationId', 'nameKey'] : ['namespace', 'activationId'];
}

/** The key a listing query continues from past `item`. */
function keyOf(item: Record<string, unknown>, query: ListActivationsQuery): Record<string, unknown> {
  return Object.fromEntries(keyAttributesOf(query).map((attribute) => [attribute, item[attribute]]));
}

export function nameKeyOf(namespace: string, actionPath: string): string {
  return `${namespace}#${actionPath}`;
}

function fromGzip(gz: Uint8Array): ActivationRecord {
  return JSON.parse(gunzipSync(gz).toString('utf8')) as ActivationRecord;
}

export class ActivationsRepository {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays: number,
    /** Where pages after a skip started (the controller's); without, every skip walks. */
    private readonly cursors?: SkipCursors,
  ) {}

  private expiresAt(fromMs: number): number {
    return Math.floor(fromMs / 1000) + Math.round(this.retentionDays * 86_400);
  }

  /**
   * Claims an activation id for one invoker; false when any claim or record already exists. The
   * claim carries a token of its own: when the SDK retries a put that had landed, the retry's
   * refusal is recognised as this very claim.
   */
  async claim(namespace: string, activationId: string, invoker: string, about?: ClaimedActivation, onBehalf = false, takeOverOwn = false): Promise<boolean> {
    const now = Date.now();
    const claimToken = randomUUID();
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            namespace,
            activationId,
            state: 'running',
            invoker,
            claimToken,
            claimedAt: now,
            expiresAt: this.expiresAt(now),
            nameKey: claimKeyOf(invoker),
            about,
            ...(onBehalf ? { onBehalf } : {}),
          },
          ...(takeOverOwn
            ? {
                ConditionExpression: 'attribute_not_exists(activationId) OR (#s = :running AND invoker = :me)',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: { ':running': 'running', ':me': invoker },
              }
            : { ConditionExpression: 'attribute_not_exists(activationId)' }),
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Written for a holder, any claim or record there will do: no need to tell an SDK retry of this one.
      if (onBehalf) return false;
      const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { namespace, activationId }, ConsistentRead: true }));
      return Item?.state === 'running' && Item.claimToken === claimToken;
    }
  }

  /**
   * Claims an activation in the name of the invoker process that has it, or may have it (a
   * controller whose direct dispatch got no answer): that invoker replaces the claim with the
   * record, or records it as abandoned if it never got the activation, and if it is gone whoever
   * sweeps its claims does. False when a claim or a record is there already.
   */
  async claimOnBehalf(namespace: string, activationId: string, holder: string, about: ClaimedActivation): Promise<boolean> {
    return this.claim(namespace, activationId, holder, about, true);
  }

  /**
   * Claims an activation for `invoker` unless it is recorded or claimed by another: a claim a
   * controller wrote in this very invoker's name (see claimOnBehalf) becomes its own.
   */
  async claimUnlessRecorded(namespace: string, activationId: string, invoker: string, about: ClaimedActivation): Promise<boolean> {
    return this.claim(namespace, activationId, invoker, about, false, true);
  }

  /**
   * Stores the finished record, replacing the claim. Never overwrites a finished record, so a
   * record written by recovery and a late invoker cannot both land. `claimToken`: only over that
   * very claim (a record of abandonment made from a claim read earlier must not land over one its
   * holder has taken over since).
   */
  async complete(record: ActivationRecord, actionPath: string, claimToken?: string): Promise<boolean> {
    const expiresAt = this.expiresAt(record.end || record.start);
    const base = {
      namespace: record.namespace,
      activationId: record.activationId,
      state: 'done' as const,
      nameKey: nameKeyOf(record.namespace, actionPath),
      start: record.start,
      expiresAt,
    };
    const gz = gzipSync(JSON.stringify(record));
    let item: ActivationItem;
    if (gz.length <= MAX_INLINE_GZ_BYTES) {
      item = { ...base, recordGz: gz };
    } else {
      // Chunks first, so the record never names chunks that are not there.
      const count = await putChunks(this.dynamo, this.table, gz, (n) => ({ namespace: record.namespace, activationId: chunkKey(record.activationId, n), expiresAt }));
      item = { ...base, recordChunks: count };
    }
    // As with claims: when the SDK retries a put that had landed, the retry's refusal is
    // recognised as this very write by its token (and the caller counts it as stored).
    const recordToken = randomUUID();
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...item, recordToken },
          ...(claimToken === undefined
            ? {
                ConditionExpression: 'attribute_not_exists(activationId) OR #s = :running',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: { ':running': 'running' },
              }
            : {
                ConditionExpression: '#s = :running AND claimToken = :claim',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: { ':running': 'running', ':claim': claimToken },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.dynamo.send(
        new GetCommand({ TableName: this.table, Key: { namespace: record.namespace, activationId: record.activationId }, ConsistentRead: true, ProjectionExpression: 'recordToken' }),
      );
      return Item?.recordToken === recordToken;
    }
  }

  /**
   * The claims an invoker process still holds (activations it took and has not recorded): what is
   * left to record once that process is gone. The finished record replaces a claim, which takes it
   * out of this list.
   */
  async claimsHeldBy(invoker: string): Promise<HeldClaim[]> {
    const claims: HeldClaim[] = [];
    const query = {
      TableName: this.table,
      IndexName: ACTIVATIONS_BY_NAME_INDEX,
      KeyConditionExpression: 'nameKey = :key',
      ExpressionAttributeValues: { ':key': claimKeyOf(invoker) },
    };
    for await (const page of queryPages(this.dynamo, query)) {
      for (const item of (page.Items ?? []) as ActivationItem[]) {
        if (item.state !== 'running' || !item.about) continue;
        claims.push({
          ...item.about,
          namespace: item.namespace,
          activationId: item.activationId,
          claimedAt: item.claimedAt,
          ...(item.onBehalf ? { onBehalf: true } : {}),
          ...(item.claimToken ? { claimToken: item.claimToken } : {}),
        });
      }
    }
    return claims;
  }

  /** How far an activation got: claimed (running), recorded, or neither (its message is somewhere, or nowhere). */
  async progress(namespace: string, activationId: string): Promise<'claimed' | 'recorded' | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { namespace, activationId }, ConsistentRead: true, ProjectionExpression: '#s', ExpressionAttributeNames: { '#s': 'state' } }),
    );
    if (!Item) return undefined;
    return Item.state === 'running' ? 'claimed' : 'recorded';
  }

  /** Who holds the claim of an activation that has no record yet. */
  async claimHolder(namespace: string, activationId: string): Promise<{ invoker: string; claimedAt: number; claimToken?: string } | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { namespace, activationId }, ConsistentRead: true }),
    );
    const item = Item as ActivationItem | undefined;
    return item?.state === 'running' ? { invoker: item.invoker, claimedAt: item.claimedAt, claimToken: item.claimToken } : undefined;
  }

  async get(namespace: string, activationId: string): Promise<ActivationRecord | undefined> {
    const { Item } = await this.dynamo.send(
      new GetCommand({ TableName: this.table, Key: { namespace, activationId }, ConsistentRead: true }),
    );
    return Item ? this.decode(Item as ActivationItem) : undefined;
  }

  private async decode(item: ActivationItem): Promise<ActivationRecord | undefined> {
    if (item.state !== 'done') return undefined;
    if (item.record) return item.record;
    if (item.recordGz) return fromGzip(item.recordGz);
    if (item.recordChunks) {
      const chunks = await Promise.all(
        Array.from({ length: item.recordChunks }, (_, n) =>
          this.dynamo.send(
            new GetCommand({ TableName: this.table, Key: { namespace: item.namespace, activationId: chunkKey(item.activationId, n) }, ConsistentRead: true }),
          ),
        ),
      );
      return fromGzip(Buffer.concat(chunks.map((c) => Buffer.from((c.Item as { data: Uint8Array }).data))));
    }
    return undefined;
  }

  /**
   * Finished records, newest first, paged with limit and skip. DynamoDB has no offset: the page
   * after a skip is read from where the last listing of the same query left it (see SkipCursors),
   * moved up past the records that arrived above it since; without one, the skipped records are
   * walked over by their keys only (nothing of them is sent or decoded). Records that finish late
   * (their ids older than the newest one then) inside the skipped range shift the page by as many,
   * as new records shift an offset between two requests; such shifts add up along a chain of
   * cursors, so a chain is walked afresh once it is a minute old.
   */
  async list(namespace: string, query: ListActivationsQuery): Promise<ActivationRecord[]> {
    let start: SkipCursor | undefined;
    if (query.skip > 0) {
      start = (await this.fromCursor(namespace, query)) ?? (await this.walkSkipping(namespace, query));
      if (!start) return [];
    }
    const found: ActivationRecord[] = [];
    let top = start?.top;
    const anchoredAt = start?.anchoredAt ?? Date.now();
    for await (const page of queryPages(this.dynamo, { ...this.rangeQuery(namespace, query), ExclusiveStartKey: start?.after })) {
      for (const item of page.Items ?? []) {
        const record = await this.decode(item as ActivationItem);
        if (!record) continue;
        found.push(record);
        top ??= record.activationId;
        if (found.length === query.limit) {
          this.cursors?.set(cursorKeyOf(namespace, query, query.skip + query.limit), { after: keyOf(item, query), top, anchoredAt });
          return found;
        }
      }
    }
    return found;
  }

  /** Where the page after the skip starts by the cursor the last listing left, if any (and not too old). */
  private async fromCursor(namespace: string, query: ListActivationsQuery): Promise<SkipCursor | undefined> {
    const cursor = this.cursors?.get(cursorKeyOf(namespace, query, query.skip));
    if (!cursor || Date.now() - cursor.anchoredAt > CURSOR_CHAIN_MS) return undefined;
    // Records above the cursor's newest arrived since: every skipped one moved down by as many.
    // More of them than the skip itself: walking the skip is cheaper.
    const fromTop = await this.walkKeys(namespace, query, { from: cursor.top, count: query.skip + 1 });
    const topSeen = fromTop.last?.activationId === cursor.top;
    if (!topSeen && fromTop.seen > query.skip) return undefined;
    const arrived = fromTop.seen - (topSeen ? 1 : 0);
    if (arrived === 0) return cursor;
    const up = await this.walkKeys(namespace, query, { upFrom: cursor.after, count: arrived });
    if (up.seen < arrived || !up.last) return undefined;
    return { after: up.last, top: String(fromTop.first!.activationId), anchoredAt: cursor.anchoredAt };
  }

  /** The key of the `skip`-th finished record of the query (where the page after it starts), or undefined when there are fewer. */
  private async walkSkipping(namespace: string, query: ListActivationsQuery): Promise<SkipCursor | undefined> {
    const skipped = await this.walkKeys(namespace, query, { count: query.skip });
    if (skipped.seen < query.skip || !skipped.first || !skipped.last) return undefined;
    return { after: skipped.last, top: String(skipped.first.activationId), anchoredAt: Date.now() };
  }

  /**
   * Walks at most `count` finished records of the query by their keys only: newest first (down to
   * the id `from`, when given), or oldest first from past the key `upFrom`. Returns how many it saw
   * and the first and last keys, nothing else (a long walk holds no list of keys).
   */
  private async walkKeys(
    namespace: string,
    query: ListActivationsQuery,
    walk: { count: number; from?: string; upFrom?: Record<string, unknown> },
  ): Promise<{ seen: number; first?: Record<string, unknown>; last?: Record<string, unknown> }> {
    const range = this.rangeQuery(namespace, query);
    const keyAttributes = keyAttributesOf(query);
    const names: Record<string, string> = { ...range.ExpressionAttributeNames };
    keyAttributes.forEach((attribute, i) => (names[`#k${i}`] = attribute));
    const values = walk.from !== undefined ? { ...range.ExpressionAttributeValues, ':low': walk.from } : range.ExpressionAttributeValues;
    const walked: { seen: number; first?: Record<string, unknown>; last?: Record<string, unknown> } = { seen: 0 };
    const keysOnly = {
      ...range,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ProjectionExpression: keyAttributes.map((_, i) => `#k${i}`).join(', '),
      ScanIndexForward: walk.upFrom !== undefined,
      ExclusiveStartKey: walk.upFrom,
    };
    for await (const page of queryPages(this.dynamo, keysOnly)) {
      for (const item of page.Items ?? []) {
        walked.first ??= item;
        walked.last = item;
        if (++walked.seen === walk.count) return walked;
      }
    }
    return walked;
  }

  async count(namespace: string, query: Omit<ListActivationsQuery, 'limit' | 'skip'>): Promise<number> {
    let total = 0;
    for await (const page of queryPages(this.dynamo, { ...this.rangeQuery(namespace, { ...query, limit: 0, skip: 0 }), Select: 'COUNT' })) total += page.Count ?? 0;
    return total;
  }

  /**
   * `since`/`upto` filter on the record's start time. An id is issued before its activation starts,
   * so `upto` bounds the key exactly and `since` bounds the key loosely (start - 10 min of queueing);
   * the filter on `start` makes both exact.
   */
  private rangeQuery(namespace: string, query: ListActivationsQuery) {
    const low = lowestIdAt(query.since === undefined ? 0 : query.since - 600_000);
    const high = highestIdAt(query.upto ?? 0xffffffffffff);
    const names: Record<string, string> = { '#id': 'activationId', '#s': 'state' };
    const values: Record<string, unknown> = { ':low': low, ':high': high, ':done': 'done' };
    const filters = ['#s = :done'];
    if (query.since !== undefined) {
      filters.push('#start >= :since');
      values[':since'] = query.since;
    }
    if (query.upto !== undefined) {
      filters.push('#start <= :upto');
      values[':upto'] = query.upto;
    }
    if (filters.length > 1) names['#start'] = 'start';
    const byName = query.name !== undefined;
    names['#pk'] = byName ? 'nameKey' : 'namespace';
    values[':pk'] = byName ? nameKeyOf(namespace, query.name!) : namespace;
    return {
      TableName: this.table,
      IndexName: byName ? ACTIVATIONS_BY_NAME_INDEX : undefined,
      KeyConditionExpression: '#pk = :pk AND #id BETWEEN :low AND :high',
      FilterExpression: filters.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
    };
  }
}
