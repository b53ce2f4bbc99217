import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryPages } from './query-pages';

/** What an invoker reports of itself with each heartbeat. */
export interface InvokerReport {
  /** Stable name (on ECS, the task id). */
  id: string;
  /** This process of it; claims are made as `id/instance`. */
  instance: string;
  startedAt: number;
  /** `up` while taking work, `draining` once asked to stop, `stopped` when gone cleanly. */
  state: 'up' | 'draining' | 'stopped';
  inFlight: number;
  /** Which container factory runs its actions. */
  factory: string;
  /** The machine it runs on (`os.hostname()`), so a restart there can tell a dead predecessor from a live one. */
  host?: string;
  /** Where controllers dispatch blocking activations straight to it (see dispatch-server.ts); absent: queue only. */
  dispatchUrl?: string;
  /** Activations it runs at once. */
  capacity?: number;
  /** When it last took an activation into a slot (epoch ms); absent: none yet. The fleet sleeper reads it. */
  lastStartedAt?: number;
}

/** An invoker as operators see it: `offline` once its heartbeats stopped for the offline window. */
export interface InvokerHealth extends InvokerReport {
  heartbeatAt: number;
  status: 'up' | 'draining' | 'stopped' | 'offline';
}

/** OpenWhisk marks an invoker offline after 10 s without a ping. */
export const DEFAULT_OFFLINE_AFTER_MS = 10_000;
/**
 * An invoker's claims are taken over only once it has been silent this long: far longer than
 * being offline to the scheduler, so a process stalled for a while (a long GC, a frozen VM, a
 * loaded host) finds its work still its own when it wakes.
 */
export const DEFAULT_LEASE_MS = 60_000;
/** Registrations outlive their invoker by a day, for operators to see what went offline. */
const REGISTRATION_TTL_S = 86_400;
const PARTITION = 'invokers';

/**
 * The invoker registry in the coordination table: each invoker process heartbeats its item. It is
 * `offline` to operators after `offlineAfterMs` without a heartbeat (OpenWhisk's 10 s); a claim
 * it holds was abandoned once it stopped, or has been silent for `leaseMs`: its activation is then
 * ended with an error record instead of being run again.
 */
export class InvokerRegistry {
  readonly leaseMs: number;

  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    readonly offlineAfterMs: number,
    leaseMs = DEFAULT_LEASE_MS,
  ) {
    this.leaseMs = Math.max(leaseMs, offlineAfterMs);
  }

  async heartbeat(report: InvokerReport, now = Date.now()): Promise<void> {
    await this.dynamo.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: PARTITION, sk: claimantOf(report), ...report, heartbeatAt: now, expiresAt: Math.floor(now / 1000) + REGISTRATION_TTL_S },
      }),
    );
  }

  /** Every registered invoker process, newest first. */
  async list(now = Date.now()): Promise<InvokerHealth[]> {
    return (await this.registrations()).map((item) => this.health(item, now)).sort((a, b) => b.startedAt - a.startedAt);
  }

  /** The registry's items, all or those of one invoker id (`id/...`). */
  private async registrations(id?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    const query = {
      TableName: this.table,
      KeyConditionExpression: id === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :id)',
      ExpressionAttributeValues: { ':pk': PARTITION, ...(id === undefined ? {} : { ':id': `${id}/` }) },
      ConsistentRead: true,
    };
    for await (const page of queryPages(this.dynamo, query)) items.push(...(page.Items ?? []));
    return items;
  }

  /** Whether the invoker process that made a claim (`id/instance`) still holds its lease. */
  async isAlive(claimant: string, now = Date.now()): Promise<boolean> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { pk: PARTITION, sk: claimant }, ConsistentRead: true }));
    return Item ? this.holdsLease(this.health(Item, now), now) : false;
  }

  /** The invoker processes that still hold their lease: wherever work may be running now. */
  async holdingLease(now = Date.now()): Promise<InvokerHealth[]> {
    return (await this.list(now)).filter((invoker) => this.holdsLease(invoker, now));
  }

  /**
   * Whether the invoker process that holds an activation (`id/instance`) is gone, as anyone sees
   * it: stopped, past its lease, never registered, or followed by a later process of its id (one
   * process at a time uses an id).
   */
  async claimantIsGone(claimant: string, now = Date.now()): Promise<boolean> {
    const id = invokerIdOf(claimant);
    const instances = (await this.registrations(id)).map((item) => ({ sk: String(item.sk), health: this.health(item, now) }));
    const own = instances.find((instance) => instance.sk === claimant);
    if (!own || !this.holdsLease(own.health, now)) return true;
    return instances.some((other) => other.sk !== claimant && other.health.startedAt > own.health.startedAt);
  }

  private holdsLease(invoker: InvokerHealth, now: number): boolean {
    return invoker.state !== 'stopped' && now - invoker.heartbeatAt <= this.leaseMs;
  }

  /** The registered processes of one invoker id (its instances), but `self`. */
  async instancesOf(id: string, self?: { instance: string }, now = Date.now()): Promise<Array<InvokerHealth & { holdsLease: boolean; swept: boolean }>> {
    return (await this.registrations(id))
      .map((item) => ({ ...this.health(item, now), swept: item.swept === true }))
      .filter((invoker) => invoker.instance !== self?.instance)
      .map((invoker) => ({ ...invoker, holdsLease: this.holdsLease(invoker, now) }));
  }

  /** Invoker processes that are gone (stopped, or past their lease) and whose claims nobody has recorded yet. */
  async goneUnswept(now = Date.now()): Promise<InvokerHealth[]> {
    return (await this.registrations())
      .filter((item) => item.swept !== true)
      .map((item) => this.health(item, now))
      .filter((invoker) => !this.holdsLease(invoker, now));
  }

  /** Every invoker process that may still hold claims (`id/instance`): all but those swept. */
  async unsweptClaimants(): Promise<string[]> {
    return (await this.registrations()).filter((item) => item.swept !== true).map((item) => String(item.sk));
  }

  /**
   * Notes that every claim of a gone process has been recorded, so nobody looks for them again:
   * only while its heartbeat is still `judgedBy`, the one it was judged gone by (a process that
   * beat again meanwhile is back, and may be given claims again).
   */
  async markSwept(claimant: string, judgedBy: number): Promise<void> {
    await this.dynamo.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: PARTITION, sk: claimant },
        UpdateExpression: 'SET swept = :yes',
        ConditionExpression: 'attribute_exists(sk) AND heartbeatAt = :judgedBy',
        ExpressionAttributeValues: { ':yes': true, ':judgedBy': judgedBy },
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  /**
   * Whether the invoker process holding a claim is gone, as seen by the invoker process `self`: one
   * process at a time uses an invoker id, so an earlier instance of `self`'s id is gone; another
   * invoker is gone when it is offline or stopped.
   */
  async holderIsGone(claimant: string, self: { id: string; instance: string }): Promise<boolean> {
    if (claimant.startsWith(`${self.id}/`) && claimant !== claimantOf(self)) return true;
    return !(await this.isAlive(claimant));
  }

  private health(item: Record<string, unknown>, now: number): InvokerHealth {
    const { pk: _pk, sk: _sk, expiresAt: _expires, swept: _swept, ...report } = item;
    const health = report as unknown as InvokerHealth;
    const silent = now - health.heartbeatAt > this.offlineAfterMs;
    return { ...health, status: health.state === 'stopped' ? 'stopped' : silent ? 'offline' : health.state };
  }
}

/** The invoker id of a process that holds claims (`id/instance`): claimantOf's inverse half. */
export function invokerIdOf(claimant: string): string {
  return claimant.slice(0, claimant.lastIndexOf('/'));
}

export function claimantOf(invoker: { id: string; instance: string }): string {
  return `${invoker.id}/${invoker.instance}`;
}
