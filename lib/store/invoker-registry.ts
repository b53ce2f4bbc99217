import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
}

/** An invoker as operators see it: `offline` once its heartbeats stopped for the offline window. */
export interface InvokerHealth extends InvokerReport {
  heartbeatAt: number;
  status: 'up' | 'draining' | 'stopped' | 'offline';
}

/** OpenWhisk marks an invoker offline after 10 s without a ping. */
export const DEFAULT_OFFLINE_AFTER_MS = 10_000;
/** Registrations outlive their invoker by a day, for operators to see what went offline. */
const REGISTRATION_TTL_S = 86_400;
const PARTITION = 'invokers';

/**
 * The invoker registry in the coordination table: each invoker process heartbeats its item, and a
 * claim whose invoker is offline (no heartbeat within `offlineAfterMs`, as OpenWhisk's 10 s) or
 * stopped was abandoned: its activation is ended with an error record instead of being run again.
 */
export class InvokerRegistry {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    readonly offlineAfterMs: number,
  ) {}

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
    const items: Record<string, unknown>[] = [];
    const query = { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': PARTITION }, ConsistentRead: true };
    for await (const page of queryPages(this.dynamo, query)) items.push(...(page.Items ?? []));
    return items.map((item) => this.health(item, now)).sort((a, b) => b.startedAt - a.startedAt);
  }

  /** Whether the invoker process that made a claim (`id/instance`) still runs. */
  async isAlive(claimant: string, now = Date.now()): Promise<boolean> {
    const { Item } = await this.dynamo.send(new GetCommand({ TableName: this.table, Key: { pk: PARTITION, sk: claimant }, ConsistentRead: true }));
    if (!Item) return false;
    const { status } = this.health(Item, now);
    return status === 'up' || status === 'draining';
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
    const { pk: _pk, sk: _sk, expiresAt: _expires, ...report } = item;
    const health = report as unknown as InvokerHealth;
    const silent = now - health.heartbeatAt > this.offlineAfterMs;
    return { ...health, status: health.state === 'stopped' ? 'stopped' : silent ? 'offline' : health.state };
  }
}

export function claimantOf(invoker: { id: string; instance: string }): string {
  return `${invoker.id}/${invoker.instance}`;
}
