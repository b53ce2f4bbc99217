import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AdmissionShares, SHARE_ATTRIBUTE_PREFIX, type HeldShare, type ShareSettings } from './admission-shares';
import { asError, Coalescer } from './coalescer';
import { queryPages, scanPages } from './query-pages';
import { retryFor, sendUntilProcessed } from './retry';

export type RateKind = 'fires';

/**
 * An in-flight slot is a lease that counts until its deadline. An accepted activation is normally
 * recorded within minutes (its timeout is at most 5 min), so a lease this old was leaked (a process
 * died between storing the record and giving the slot back) or waits behind a long backlog: either
 * way the reconciler gives it back, and the throttle errs on the side of admitting.
 */
export const SLOT_LEASE_MS = 15 * 60_000;

/** A namespace's admission counts as the reconciler reads them. */
export interface InFlightCount {
  namespace: string;
  inflight: number;
  minute: number;
  minuteCount: number;
  /** The admission shares reserved in it (see AdmissionShares): attribute, end (ms) and size. */
  shares: Array<{ attribute: string; until: number; size: number }>;
}

/** Why an activation was refused, with the count OpenWhisk's message reports. */
export type Admission = { admitted: true } | { admitted: false; limit: 'perMinute' | 'concurrent'; count: number };

/** How often admission retries when another controller changed the namespace's counters at the same instant. */
const ADMIT_ATTEMPTS = 8;

/** How long giving back what is left of a share is retried; then the reconciler puts the count right. */
const SHARE_RETURN_RETRY_MS = 8000;

const ADMITTED: Admission = { admitted: true };

/** A namespace's throttle limits, as admission checks them. */
export interface AdmissionLimits {
  perMinute: number;
  concurrent: number;
}

/**
 * Per-namespace throttle counters in the coordination table, shared by every controller (each
 * Lambda instance) and invoker, so the limits hold however many run.
 * - `throttle#<ns>` / `admission`: the namespace's current minute window (`minute`, `minuteCount`)
 *   and its activations in flight (`inflight`). Admitting is one conditional update of this item,
 *   whatever the number in flight: both limits are checked and both counts taken at once, so two
 *   controllers can never both take the last slot. Admissions arriving together in one process
 *   share one update (`ADD k` if k more fit), and so do count-offs (`ADD -k`). With `shares`, a
 *   busy namespace's update also reserves a share of admissions this process then hands out
 *   without a store call (see AdmissionShares); each live share is a `share_…` attribute holding
 *   its end and size, so the reconciler knows the count includes admissions not handed out yet.
 * - An admitted activation is counted off exactly once: by the process whose write stored its
 *   record (the conditional write succeeds once), or by the controller that could not send it.
 * - `slots#<ns>` / `<activation id>`: a lease for each activation that goes through the queue
 *   (where it may wait), deleted once its record is stored. A blocking activation dispatched
 *   straight to an invoker has none: the invoker knows it runs it. The leases, those invokers'
 *   lists and the claims are what is really in flight; SlotReconciler compares them with
 *   `inflight` and puts right what a crash between two writes left.
 * - `throttle#<ns>` / `fires#<minute>`: trigger fires in one fixed minute window (one atomic ADD).
 */
export class ThrottleCounters {
  /** Keyed by namespace and limits: admissions with other limits are not counted together. */
  private readonly admissions = new Coalescer<{ namespace: string; limits: AdmissionLimits; minute: number }, Admission>((key, items) => this.admitBatch(key, items[0].namespace, items));
  private readonly countOffs = new Coalescer<null, void>(async (namespace, items) => {
    await this.addInFlight(namespace, -items.length);
    return items.map(() => undefined);
  });
  /** Lease puts and deletes made at the same time go in one BatchWriteItem (at most 25). */
  private readonly leaseWrites = new Coalescer<{ put?: Record<string, unknown>; delete?: Record<string, unknown> }, void>((_, writes) => this.writeLeases(writes), 25);

  /** This process's admission shares; undefined: every admission is one update (the default). */
  private readonly shares?: AdmissionShares;
  /** Shares being given back, for shutdown to wait on. */
  private readonly endings = new Set<Promise<void>>();

  /** `shares`: admit busy namespaces from shares (long-lived controllers only; see AdmissionShares). */
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    options: { shares?: ShareSettings } = {},
  ) {
    if (options.shares) this.shares = new AdmissionShares(options.shares, (share) => this.endShare(share));
  }

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

  /**
   * Admits one activation within `perMinute` invocations in the current minute and `concurrent` in
   * flight (one round trip, shared with the admissions of the namespace sent at the same time). An
   * admitted activation is counted off with `countOff` once its record is stored; with `lease`,
   * its lease (see `writeLease`) is written at the same time.
   */
  async admit(namespace: string, activationId: string, limits: AdmissionLimits, options: { lease?: boolean; now?: number } = {}): Promise<Admission> {
    const now = options.now ?? Date.now();
    const minute = Math.floor(now / 60_000);
    const key = `${limits.perMinute}/${limits.concurrent}|${namespace}`;
    const counted = this.shares?.take(key, minute) ? Promise.resolve(ADMITTED) : this.admissions.submit(key, { namespace, limits, minute });
    if (!options.lease) return counted;
    const [leaseWritten, admission] = await Promise.allSettled([this.writeLease(namespace, activationId, now), counted]);
    if (admission.status === 'fulfilled' && admission.value.admitted && leaseWritten.status === 'fulfilled') return admission.value;
    // Refused, or half written: whatever was written is taken back.
    if (leaseWritten.status === 'fulfilled') await this.deleteLease(namespace, activationId);
    if (admission.status === 'fulfilled' && admission.value.admitted) await this.addInFlight(namespace, -1);
    if (admission.status === 'rejected') throw admission.reason;
    if (leaseWritten.status === 'rejected') throw leaseWritten.reason;
    return admission.value;
  }

  /**
   * Admissions of one namespace sent together: those a share (reserved while they waited) has
   * room for from it, the others with one update when they fit (as they do, but near a limit or at
   * a new minute), else one by one.
   */
  private async admitBatch(key: string, namespace: string, items: Array<{ limits: AdmissionLimits; minute: number }>): Promise<Array<Admission | Error>> {
    const results: Array<Admission | Error | undefined> = items.map((item) => (this.shares?.take(key, item.minute) ? ADMITTED : undefined));
    const waiting = items.flatMap((item, i) => (results[i] ? [] : [{ item, i }]));
    if (waiting.length) {
      // A store error fails only the admissions that needed the store: those taken from the share
      // are admitted (counted when it was reserved), and must be run and counted off as such.
      const admissions = await this.admitFromStore(
        key,
        namespace,
        waiting.map(({ item }) => item),
      ).catch((error: unknown) => waiting.map(() => asError(error)));
      waiting.forEach(({ i }, j) => (results[i] = admissions[j]));
    }
    return results as Array<Admission | Error>;
  }

  private async admitFromStore(key: string, namespace: string, items: Array<{ limits: AdmissionLimits; minute: number }>): Promise<Array<Admission | Error>> {
    const { limits } = items[0];
    const minute = Math.max(...items.map((item) => item.minute));
    const k = items.length;
    let share = this.shares?.wanted(key, limits, minute) ?? 0;
    if (k + share > limits.perMinute || k + share > limits.concurrent) share = 0;
    if ((k > 1 || share > 0) && k <= limits.perMinute && k <= limits.concurrent) {
      if (await this.addTogether(key, namespace, minute, limits, k, share)) return items.map(() => ADMITTED);
    }
    // One by one; one that fails fails alone (those before it are admitted and stay so).
    const admissions: Array<Admission | Error> = [];
    for (const item of items) admissions.push(await this.count(namespace, item.limits, item.minute).catch(asError));
    return admissions;
  }

  /**
   * Admits `k` and reserves a share of `share` more with one update, if all of them fit in this
   * minute's window. A share this process held for the key before is replaced: removed in the
   * same update when it was used up, given back otherwise (before admitting one by one, so that
   * this process is not refused for admissions it holds itself).
   */
  private async addTogether(key: string, namespace: string, minute: number, limits: AdmissionLimits, k: number, share: number): Promise<boolean> {
    if (share === 0) return this.conditionalUpdate(this.togetherUpdate(namespace, minute, limits, k));
    const shares = this.shares!;
    const previous = shares.detach(key);
    const reserved: HeldShare = { namespace, attribute: shares.newAttribute(), minute, until: shares.endOf(minute), unused: share };
    const removed = previous?.unused === 0 ? previous.attribute : undefined;
    const update = this.togetherUpdate(namespace, minute, limits, k + share);
    let added: boolean;
    try {
      added = await this.conditionalUpdate({
        ...update,
        UpdateExpression: `${update.UpdateExpression} SET #share = :share${removed ? ' REMOVE #previous' : ''}`,
        // A retry of a write that landed (its answer was lost) fails here rather than count twice.
        ConditionExpression: `${update.ConditionExpression} AND attribute_not_exists(#share)`,
        ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#share': reserved.attribute, ...(removed ? { '#previous': removed } : {}) },
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':share': { until: reserved.until, size: share } },
      });
      if (!added) added = await this.holdsShare(namespace, reserved.attribute);
    } catch (error) {
      // Whether it landed is unknown: all of it is given back if it did (the admissions it was for
      // fail with this error), and nothing happens if it did not.
      if (previous) this.endShare(previous);
      this.endShare({ ...reserved, unused: k + share });
      throw error;
    }
    if (previous && !(added && removed)) {
      const ending = this.endShare(previous);
      if (!added && previous.unused > 0) await ending;
    }
    if (added) shares.hold(key, reserved);
    return added;
  }

  /** The update that admits `total` at once if they fit in this minute's window. */
  private togetherUpdate(namespace: string, minute: number, limits: AdmissionLimits, total: number) {
    return {
      Key: { pk: pkOf(namespace), sk: ADMISSION_SK },
      UpdateExpression: 'ADD minuteCount :k, inflight :k',
      ConditionExpression: '#minute = :m AND minuteCount <= :perMinute AND (attribute_not_exists(inflight) OR inflight <= :concurrent)',
      ExpressionAttributeNames: { '#minute': 'minute' } as Record<string, string>,
      ExpressionAttributeValues: { ':k': total, ':m': minute, ':perMinute': limits.perMinute - total, ':concurrent': limits.concurrent - total } as Record<string, unknown>,
    };
  }

  private async holdsShare(namespace: string, attribute: string): Promise<boolean> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(namespace), sk: ADMISSION_SK }, ConsistentRead: true }));
    return Item?.[attribute] !== undefined;
  }

  /** Gives back, in the background, what is left of a share this process no longer holds. */
  private endShare(share: HeldShare): Promise<void> {
    const ending: Promise<void> = retryFor(SHARE_RETURN_RETRY_MS, () => this.giveBack(share), { unref: true })
      .catch(() => undefined)
      .finally(() => this.endings.delete(ending));
    this.endings.add(ending);
    return ending;
  }

  /**
   * Removes a share's attribute and counts its unused admissions off, unless the reconciler
   * removed it first (then its correction counted them off): the condition makes that happen once.
   */
  private async giveBack(share: HeldShare): Promise<void> {
    const key = { pk: pkOf(share.namespace), sk: ADMISSION_SK };
    const names = { '#share': share.attribute };
    if (share.unused === 0) {
      await this.conditionalUpdate({ Key: key, UpdateExpression: 'REMOVE #share', ConditionExpression: 'attribute_exists(#share)', ExpressionAttributeNames: names });
      return;
    }
    const unused = -share.unused;
    const withMinute = await this.conditionalUpdate({
      Key: key,
      UpdateExpression: 'ADD inflight :unused, minuteCount :unused REMOVE #share',
      ConditionExpression: 'attribute_exists(#share) AND #minute = :m',
      ExpressionAttributeNames: { ...names, '#minute': 'minute' },
      ExpressionAttributeValues: { ':unused': unused, ':m': share.minute },
    });
    // A new minute window opened meanwhile: only the slots are given back.
    if (!withMinute) {
      await this.conditionalUpdate({ Key: key, UpdateExpression: 'ADD inflight :unused REMOVE #share', ConditionExpression: 'attribute_exists(#share)', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':unused': unused } });
    }
  }

  /** Gives back every share this process holds (at shutdown) and waits until that is done. */
  async releaseShares(): Promise<void> {
    for (const share of this.shares?.detachAll() ?? []) this.endShare(share);
    await Promise.all([...this.endings]);
  }

  /** Writes the lease of an activation that goes through the queue (see the class comment). */
  async writeLease(namespace: string, activationId: string, now = Date.now()): Promise<void> {
    await this.leaseWrites.submit('', {
      put: { pk: slotsPkOf(namespace), sk: activationId, deadline: now + SLOT_LEASE_MS, expiresAt: Math.ceil((now + SLOT_LEASE_MS) / 1000) + 3600 },
    });
  }

  /** Deletes the lease of a recorded activation, when it has one (batched; nothing says whether it had). */
  async dropLease(namespace: string, activationId: string): Promise<void> {
    await this.leaseWrites.submit('', { delete: { pk: slotsPkOf(namespace), sk: activationId } });
  }

  private async writeLeases(writes: Array<{ put?: Record<string, unknown>; delete?: Record<string, unknown> }>): Promise<Array<void | Error>> {
    if (writes.length === 1) {
      const [write] = writes;
      if (write.put) await this.dynamo.send(new PutCommand({ TableName: this.table, Item: write.put }));
      else await this.dynamo.send(new DeleteCommand({ TableName: this.table, Key: write.delete }));
      return [undefined];
    }
    // One item may appear once in a batch: a put and a delete of the same lease go one after the other.
    const keyOf = (write: (typeof writes)[number]) => JSON.stringify([(write.put ?? write.delete)!.pk, (write.put ?? write.delete)!.sk]);
    if (new Set(writes.map(keyOf)).size < writes.length) {
      for (const write of writes) await this.writeLeases([write]);
      return writes.map(() => undefined);
    }
    const requests = writes.map((write) => (write.put ? { PutRequest: { Item: write.put } } : { DeleteRequest: { Key: write.delete! } }));
    await sendUntilProcessed(requests, 'throttle lease writes', async (batch) => {
      const { UnprocessedItems } = await this.dynamo.send(new BatchWriteCommand({ RequestItems: { [this.table]: batch } }));
      return (UnprocessedItems?.[this.table] ?? []) as typeof batch;
    });
    return writes.map(() => undefined);
  }

  /** Deletes an activation's lease; true when there was one (only one caller ever sees true). */
  async deleteLease(namespace: string, activationId: string, onlyIfExpiredAt?: number): Promise<boolean> {
    try {
      const { Attributes } = await this.dynamo.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: slotsPkOf(namespace), sk: activationId },
          ReturnValues: 'ALL_OLD',
          ...(onlyIfExpiredAt === undefined ? {} : { ConditionExpression: 'deadline <= :now', ExpressionAttributeValues: { ':now': onlyIfExpiredAt } }),
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Counts one admitted activation off the namespace's in flight (shared with the count-offs sent at the same time). */
  countOff(namespace: string): Promise<void> {
    return this.countOffs.submit(namespace, null);
  }

  /** Counts an activation in again that was counted off by mistake (its record was another's to store). */
  async countBack(namespace: string): Promise<void> {
    await this.addInFlight(namespace, 1);
  }

  /** Takes one in-flight slot and one count of `minute` unless a limit is reached. */
  private async count(namespace: string, limits: AdmissionLimits, minute: number): Promise<Admission> {
    const key = { pk: pkOf(namespace), sk: ADMISSION_SK };
    const belowConcurrent = '(attribute_not_exists(inflight) OR inflight < :concurrent)';
    for (let attempt = 0; attempt < ADMIT_ATTEMPTS; attempt++) {
      // Nearly always the namespace's window is the current minute already: one update.
      const sameMinute = await this.conditionalUpdate({
        Key: key,
        UpdateExpression: 'ADD minuteCount :one, inflight :one',
        ConditionExpression: `#minute = :m AND minuteCount < :perMinute AND ${belowConcurrent}`,
        ExpressionAttributeNames: { '#minute': 'minute' },
        ExpressionAttributeValues: { ':one': 1, ':m': minute, ':perMinute': limits.perMinute, ':concurrent': limits.concurrent },
      });
      if (sameMinute) return { admitted: true };
      const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      const inflight = Number(Item?.inflight ?? 0);
      if (typeof Item?.minute === 'number' && Item.minute > minute) {
        // Another controller's clock is a little ahead: its window is the current one.
        minute = Item.minute;
        continue;
      }
      if (Item?.minute === minute) {
        const minuteCount = Number(Item.minuteCount ?? 0);
        if (minuteCount >= limits.perMinute) return { admitted: false, limit: 'perMinute', count: await this.countRefused(namespace, minute) };
        if (inflight >= limits.concurrent) {
          await this.countRefused(namespace, minute);
          return { admitted: false, limit: 'concurrent', count: inflight };
        }
        continue; // another admission changed it in between
      }
      if (limits.perMinute < 1) return { admitted: false, limit: 'perMinute', count: await this.countRefused(namespace, minute) };
      if (inflight >= limits.concurrent) {
        await this.countRefused(namespace, minute);
        return { admitted: false, limit: 'concurrent', count: inflight };
      }
      // A new minute: this admission opens its window.
      const newMinute = await this.conditionalUpdate({
        Key: key,
        UpdateExpression: 'SET #minute = :m, minuteCount = :one ADD inflight :one',
        ConditionExpression: `(attribute_not_exists(#minute) OR #minute < :m) AND ${belowConcurrent}`,
        ExpressionAttributeNames: { '#minute': 'minute' },
        ExpressionAttributeValues: { ':one': 1, ':m': minute, ':concurrent': limits.concurrent },
      });
      if (newMinute) return { admitted: true };
    }
    throw new Error(`the throttle counters of namespace ${namespace} changed under ${ADMIT_ATTEMPTS} admissions in a row`);
  }

  /**
   * Counts a refused request in the minute window, as OpenWhisk counts every request it checks
   * (its message reports them); returns the window's count with it.
   */
  private async countRefused(namespace: string, minute: number): Promise<number> {
    const key = { pk: pkOf(namespace), sk: ADMISSION_SK };
    for (let attempt = 0; attempt < ADMIT_ATTEMPTS; attempt++) {
      for (const update of [
        { UpdateExpression: 'ADD minuteCount :one', ConditionExpression: '#minute = :m' },
        { UpdateExpression: 'SET #minute = :m, minuteCount = :one', ConditionExpression: 'attribute_not_exists(#minute) OR #minute < :m' },
      ]) {
        try {
          const { Attributes } = await this.dynamo.send(
            new UpdateCommand({ TableName: this.table, Key: key, ...update, ExpressionAttributeNames: { '#minute': 'minute' }, ExpressionAttributeValues: { ':one': 1, ':m': minute }, ReturnValues: 'ALL_NEW' }),
          );
          return Number(Attributes?.minuteCount ?? 1);
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
    }
    return 1;
  }

  private async conditionalUpdate(update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.dynamo.send(new UpdateCommand({ TableName: this.table, ...update }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async addInFlight(namespace: string, delta: number): Promise<void> {
    await this.dynamo.send(new UpdateCommand({ TableName: this.table, Key: { pk: pkOf(namespace), sk: ADMISSION_SK }, UpdateExpression: 'ADD inflight :delta', ExpressionAttributeValues: { ':delta': delta } }));
  }

  /** The namespace's activations in flight, as admission counts them. */
  async inFlight(namespace: string): Promise<number> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { pk: pkOf(namespace), sk: ADMISSION_SK }, ConsistentRead: true }));
    return Number(Item?.inflight ?? 0);
  }

  /**
   * Every namespace's in-flight count and the shares it holds (their attributes and ends), for
   * reconciliation (a scan: it runs at most once a minute).
   */
  async *inFlightCounts(): AsyncGenerator<InFlightCount> {
    const scan = {
      TableName: this.table,
      FilterExpression: 'begins_with(pk, :throttle) AND sk = :admission',
      ExpressionAttributeValues: { ':throttle': THROTTLE_PREFIX, ':admission': ADMISSION_SK },
      ConsistentRead: true,
    };
    for await (const page of scanPages(this.dynamo, scan)) {
      for (const item of page.Items ?? []) {
        const shares = Object.entries(item)
          .filter(([name]) => name.startsWith(SHARE_ATTRIBUTE_PREFIX))
          .map(([attribute, value]) => ({ attribute, until: Number(value?.until ?? 0), size: Number(value?.size ?? 0) }));
        yield { namespace: String(item.pk).slice(THROTTLE_PREFIX.length), inflight: Number(item.inflight ?? 0), minute: Number(item.minute ?? 0), minuteCount: Number(item.minuteCount ?? 0), shares };
      }
    }
  }

  /**
   * Sets a namespace's in-flight count by `delta` if it still is `expected` (the reconciler's
   * correction; false when an admission or a release came in between), and removes the shares
   * named, which ended long ago: their unused admissions are part of `delta`.
   */
  async correctInFlight(namespace: string, expected: number, delta: number, endedShares: string[] = []): Promise<boolean> {
    const names = Object.fromEntries(endedShares.map((attribute, i) => [`#share${i}`, attribute]));
    // Each share still there: one its controller gave back meanwhile must not be counted off again.
    const stillThere = Object.keys(names).map((name) => ` AND attribute_exists(${name})`).join('');
    return this.conditionalUpdate({
      Key: { pk: pkOf(namespace), sk: ADMISSION_SK },
      UpdateExpression: `ADD inflight :delta${endedShares.length ? ` REMOVE ${Object.keys(names).join(', ')}` : ''}`,
      ConditionExpression: `inflight = :now${stillThere}`,
      ...(endedShares.length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: { ':delta': delta, ':now': expected },
    });
  }

  /**
   * Every slot lease of every namespace, with when it was taken and until when it counts. A scan:
   * for reconciliation only, at most once a minute.
   */
  async *leases(): AsyncGenerator<{ namespace: string; activationId: string; takenAt: number; deadline: number }> {
    const scan = { TableName: this.table, FilterExpression: 'begins_with(pk, :slots)', ExpressionAttributeValues: { ':slots': SLOTS_PREFIX }, ConsistentRead: true };
    for await (const page of scanPages(this.dynamo, scan)) {
      for (const item of page.Items ?? []) {
        yield { namespace: String(item.pk).slice(SLOTS_PREFIX.length), activationId: String(item.sk), takenAt: Number(item.deadline) - SLOT_LEASE_MS, deadline: Number(item.deadline) };
      }
    }
  }

  /** Live slot leases of the namespace. */
  async slots(namespace: string, now = Date.now()): Promise<number> {
    let count = 0;
    const query = {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'deadline > :now',
      ExpressionAttributeValues: { ':pk': slotsPkOf(namespace), ':now': now },
      Select: 'COUNT' as const,
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.dynamo, query)) count += page.Count ?? 0;
    return count;
  }
}

const THROTTLE_PREFIX = 'throttle#';
const ADMISSION_SK = 'admission';

function pkOf(namespace: string): string {
  return `${THROTTLE_PREFIX}${namespace}`;
}

const SLOTS_PREFIX = 'slots#';

function slotsPkOf(namespace: string): string {
  return `${SLOTS_PREFIX}${namespace}`;
}
