import type { Logger } from 'pino';
import type { InvocationQueue, ReceivedMessage } from '../bus/invocation-queue';
import { activationMessageSchema, recordEnvelope, recordLimits, type ActivationMessage, type ActivationRecord } from '../model/activation';
import { isConductor, isSequence, resolveAction, type ResolvedAction } from '../catalog/resolve';
import type { StoredAction } from '../model/entity';
import { parseEntityPath } from '../model/names';
import { claimedActivationOf, type ActivationsRepository, type HeldClaim } from '../store/activations';
import type { EntitiesRepository } from '../store/entities';
import { claimantOf, type InvokerRegistry } from '../store/invoker-registry';
import type { ThrottleCounters } from '../store/throttle-counters';
import { newBudget, runConductor, runSequence, type CompositionBudget } from './compositions';
import { execute, type Execution } from './execute';
import { ABANDONED_ERROR, failedRecord } from './failed-records';
import { buildInitPayload, buildRunPayload, splitParameters } from './payloads';
import type { ContainerPool, PoolStatus } from './container-pool';
import { withDeadline } from './deadline';
import { UnrunnableActionError } from './container';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { SlotReconciler } from './slot-reconciler';
import { retryFor } from '../store/retry';

/** How long a start waits for a draining predecessor of its id on this host to exit (an orphan's bound, and some). */
const PREDECESSOR_EXIT_WAIT_MS = 40_000;

/**
 * Throws when a live process uses the invoker id `self.id` (two would remove each other's
 * containers and record each other's work as abandoned); else returns the id's earlier processes.
 * On this host a predecessor's pid says whether it lives, whatever its lease (it may be stalled);
 * one that is draining (its supervisor died, say) is waited for. On another host its lease says.
 */
export async function assertInvokerIdFree(registry: InvokerRegistry, self: { id: string; instance: string }) {
  const predecessors = await registry.instancesOf(self.id, self);
  for (const predecessor of predecessors) {
    if (predecessor.state === 'stopped') continue;
    const onThisHost = predecessor.host === undefined || predecessor.host === hostname();
    let live = onThisHost ? invokerPidAlive(predecessor.instance) : predecessor.holdsLease;
    if (live && onThisHost && predecessor.state === 'draining') {
      const waitUntil = Date.now() + PREDECESSOR_EXIT_WAIT_MS;
      while (invokerPidAlive(predecessor.instance) && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 250));
      live = invokerPidAlive(predecessor.instance);
    }
    if (live) {
      throw new Error(
        `Invoker id '${self.id}' is in use by a live invoker process (${claimantOf(predecessor)} on ${predecessor.host ?? 'this host'}, last heartbeat ${Math.round((Date.now() - predecessor.heartbeatAt) / 1000)} s ago): give this invoker an id of its own (SKYWHISK_INVOKER_ID).`,
      );
    }
  }
  return predecessors;
}

/** Whether the process of an instance (`<pid>-<start>`) on this host is alive and an invoker. */
function invokerPidAlive(instance: string): boolean {
  const pid = Number(instance.split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    // The pid may have been reused by another program since.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('invoker');
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

/** A record as stored, and whether this process stored it (false: another, such as a sweep, was first). */
export interface StoredOutcome {
  record: ActivationRecord;
  stored: boolean;
}

/** What a direct dispatch came to: no room here, already claimed or recorded elsewhere, or run to its record. */
export type DirectOutcome = { outcome: 'full' } | { outcome: 'taken' } | ({ outcome: 'done' } & StoredOutcome);

export interface InvokerOptions {
  /** Stable name of this invoker (one process at a time may use it). */
  id: string;
  /** This process's instance of the invoker; claims are made as `id/instance`. */
  instance: string;
  /** Activations run at once by this invoker. */
  maxConcurrent: number;
  /** Long-poll wait; shorter means a faster stop, longer means fewer empty receives. */
  pollWaitSeconds: number;
  /** `__OW_API_HOST` handed to action containers. */
  apiHost: string;
  /** The queue's visibility timeout; messages being worked on are extended every third of it. */
  visibilityTimeoutS: number;
  /** Which container factory runs the actions (reported to the registry). */
  factory: string;
  /** How often the invoker heartbeats into the registry. */
  heartbeatMs: number;
  /** A duplicate whose activation a live invoker holds is looked at again after this long. */
  duplicateRecheckS: number;
  /** How often claims left by invoker processes that are gone are looked for and recorded. */
  sweepEveryMs?: number;
  /** Where controllers reach this invoker's dispatch server, announced in the registry. */
  dispatchUrl?: string;
}

/** What the invoker works with: the bus, the tables, the registry, and its container pool. */
export interface InvokerDeps {
  queue: InvocationQueue;
  entities: EntitiesRepository;
  activations: ActivationsRepository;
  registry: InvokerRegistry;
  /** Counts an admitted activation off its namespace's in flight once its record is stored, and deletes its lease. */
  throttles: Pick<ThrottleCounters, 'countOff' | 'countBack' | 'dropLease'>;
  pool: ContainerPool;
  /** Gives back slots that nothing else will (run with each sweep). */
  slots?: Pick<SlotReconciler, 'reconcile'>;
}

/** A stop waits this long for activations in flight by default: the longest action timeout, and some. */
export const DEFAULT_DRAIN_MS = 310_000;
/** What a stop gives the pool to remove its containers before the process exits anyway. */
const POOL_SHUTDOWN_MS = 20_000;

/** Whether `work` settles within `ms`. */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(work.then(() => true, () => true), ms, 'not settled').catch(() => false);
}

/** A claim of this process that nothing here works on is recorded as abandoned once it is this old. */
const ORPHANED_CLAIM_MS = 10_000;

/** How long a throttle count or lease write is retried while the store is away (an endpoint restarting). */
const STORE_RETRY_MS = 8000;
/** A direct dispatch received within this long of being sent runs without a claim (see runDirect). */
const FRESH_DISPATCH_MS = 2000;

/** Time to wait for both log sentinels after a run before giving up on framing. */
const LOG_FRAME_WAIT_MS = 2000;

/**
 * Consumes the invocation queue. Every message is claimed in the activations table before the
 * action runs (a conditional write only the first delivery wins), so SQS's at-least-once delivery
 * never runs an action body twice; the message is deleted only after the record is stored.
 */
export class Invoker {
  private inFlight = 0;
  /** Activations ever taken into a slot here: what the fleet's activity metric counts. */
  private started = 0;
  /** When the last of them was taken (epoch ms), reported in heartbeats. */
  private lastStartedAt: number | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;
  private readonly running = new Set<Promise<void>>();
  private readonly actionCache = new Map<string, StoredAction>();
  /** Activations claimed here and not yet recorded (top-level and components), for a stop that cannot wait for them. */
  private readonly claimed = new Map<string, { message: ActivationMessage; admitted?: { leased: boolean } }>();
  /** Activations this invoker is claiming or running, by id, so a duplicate delivery can wait for them. */
  private readonly activeById = new Map<string, Promise<void>>();
  /** Direct dispatches accepted here and not yet recorded: activation id to namespace. */
  private readonly directRuns = new Map<string, string>();
  private heartbeat: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private lastBeat: Promise<void> | undefined;
  /** When the registry last took a heartbeat of this process: its lease runs from there. */
  private lastBeatAt = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly options: InvokerOptions,
    private readonly deps: InvokerDeps,
    private readonly log: Logger,
  ) {}

  /**
   * Refuses to run beside a live process of the same id; registers (before any claim, so a
   * claim's holder can always be looked up); records what earlier processes of this id left
   * claimed; then takes work.
   */
  async start(): Promise<void> {
    const predecessors = await assertInvokerIdFree(this.deps.registry, this.options);
    await this.report('up');
    this.heartbeat = setInterval(() => {
      this.lastBeat = this.report(this.stopping ? 'draining' : 'up').catch((error: unknown) => this.log.warn({ err: error }, 'heartbeat failed'));
    }, this.options.heartbeatMs);
    // One process at a time uses an id: every earlier one is gone, whatever its lease says.
    for (const predecessor of predecessors.filter((p) => !p.swept)) await this.recordClaimsOf(claimantOf(predecessor), predecessor.heartbeatAt);
    await this.reconcileSlots();
    this.sweeper = setInterval(() => void this.sweepGone(), this.options.sweepEveryMs ?? 30_000);
    this.deps.pool.start();
    this.loop = this.pollLoop();
  }

  /** Ends every activation claimed here and not yet recorded in a whisk error record. */
  private async recordUnfinished(): Promise<void> {
    for (const { message, admitted } of this.claimed.values()) {
      this.log.warn({ activationId: message.activationId }, 'activation still unfinished when the invoker stopped; recording it as failed');
      const record = failedRecord(message, message.acceptedAt, ABANDONED_ERROR);
      await this.storeRecord(record, message, admitted).catch((error: unknown) =>
        this.log.error({ err: error }, 'could not record an unfinished activation'),
      );
    }
  }

  /**
   * Records the claims of every invoker process that is gone (stopped or past its lease). Only
   * while this process's own heartbeats land: one that was stalled itself, or cut off from the
   * store, has no view of who is gone.
   */
  private async sweepGone(): Promise<void> {
    if (Date.now() - this.lastBeatAt > 2 * this.options.heartbeatMs) return;
    try {
      for (const gone of await this.deps.registry.goneUnswept()) {
        if (claimantOf(gone) === this.claimant()) continue;
        await this.recordClaimsOf(claimantOf(gone), gone.heartbeatAt, gone.state === 'stopped' ? undefined : gone.heartbeatAt);
      }
      await this.recordOwnOrphans();
    } catch (error) {
      this.log.warn({ err: error }, 'could not look for claims of invokers that are gone');
    }
    await this.reconcileSlots();
  }

  /**
   * Records the claims of this very process that nothing here works on any more: their record
   * could not be stored (the store was away through every retry), or the claim landed although
   * its write reported an error. Nobody else would, while this process lives.
   */
  private async recordOwnOrphans(): Promise<void> {
    for (const claim of await this.deps.activations.claimsHeldBy(this.claimant())) {
      if (this.activeById.has(claim.activationId) || this.claimed.has(claim.activationId) || Date.now() - claim.claimedAt < ORPHANED_CLAIM_MS) continue;
      const message: ActivationMessage = { ...claim, params: {}, blocking: false };
      const record = failedRecord(message, claim.claimedAt, ABANDONED_ERROR);
      if (await this.recordAbandoned(claim, record, message)) {
        this.log.warn({ activationId: claim.activationId }, 'an activation claimed here was left without a record; recorded it as failed');
      }
    }
  }

  /** Stores the abandonment record of a claim read from the store, only while that very claim is there. */
  private recordAbandoned(claim: HeldClaim, record: ActivationRecord, message: ActivationMessage): Promise<boolean> {
    return this.storeRecord(record, message, claim.admitted ? { leased: true } : undefined, claim.claimToken);
  }

  /**
   * Stores an activation's record: one the controller `admitted` (a top-level one) counted off its
   * namespace too (see completeTopLevel), a composition's component alone. `claimToken`: only over that claim.
   */
  private storeRecord(record: ActivationRecord, message: ActivationMessage, admitted: { leased: boolean } | undefined, claimToken?: string): Promise<boolean> {
    return admitted ? this.completeTopLevel(record, message, admitted.leased, claimToken) : this.deps.activations.complete(record, message.action.path, claimToken);
  }

  private async reconcileSlots(): Promise<void> {
    await this.deps.slots?.reconcile().catch((error: unknown) => this.log.warn({ err: error }, 'could not reconcile throttle slots'));
  }

  /**
   * Ends every activation a gone process still holds (top-level ones and composition components
   * alike) in a whisk error record, gives back their slots, and marks that process swept. Its
   * messages, when they come back, find the records and are dropped. `lastSeenAt`: the heartbeat
   * it was judged gone by; a claim made after it shows the process was alive since, and is left
   * alone (and the process is not marked swept).
   */
  private async recordClaimsOf(claimant: string, judgedBy: number, lastSeenAt?: number): Promise<void> {
    const claims = await this.deps.activations.claimsHeldBy(claimant);
    // A claim a controller wrote in its name says nothing of whether the process lived then.
    const newer = lastSeenAt === undefined ? [] : claims.filter((claim) => !claim.onBehalf && claim.claimedAt > lastSeenAt);
    for (const claim of claims.filter((c) => !newer.includes(c))) {
      const message: ActivationMessage = { ...claim, params: {}, blocking: false };
      // A composition's component was never admitted: it has no slot.
      const record = failedRecord(message, claim.claimedAt, ABANDONED_ERROR);
      if (await this.recordAbandoned(claim, record, message)) {
        this.log.warn({ activationId: claim.activationId, holder: claimant }, 'activation claimed by an invoker that is gone; recorded it as failed');
      }
    }
    // Only if it did not beat again meanwhile: a process back from a stall keeps its claims its own.
    if (newer.length === 0) await this.deps.registry.markSwept(claimant, judgedBy);
  }

  /**
   * Before storing a record: a process that went without a heartbeat for half its lease (stalled)
   * renews it first, so that nobody takes over work it is about to finish.
   */
  private async renewStaleLease(): Promise<void> {
    if (Date.now() - this.lastBeatAt <= this.deps.registry.leaseMs / 2) return;
    await this.report(this.stopping ? 'draining' : 'up').catch((error: unknown) => this.log.warn({ err: error }, 'heartbeat failed'));
  }

  /**
   * Stops taking messages and finishes the activations in flight, for at most `drainMs`: any still
   * unfinished then (a stuck container, an action past its timeout) is ended in a whisk error
   * record. Then removes every container (for at most 20 s) and deregisters.
   */
  async stop(drainMs = DEFAULT_DRAIN_MS): Promise<void> {
    this.stopping = true;
    this.slotFreed?.();
    await this.report('draining').catch(() => undefined);
    await this.loop;
    if (!(await settlesWithin(Promise.all(this.running), drainMs))) await this.recordUnfinished();
    if (!(await settlesWithin(this.deps.pool.shutdown(), POOL_SHUTDOWN_MS))) this.log.warn('containers were still being removed when the invoker stopped');
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    // A beat still on its way would land after `stopped` and turn it back into `draining`.
    await this.lastBeat;
    await this.report('stopped').catch((error: unknown) => this.log.warn({ err: error }, 'could not deregister'));
  }

  private async report(state: 'up' | 'draining' | 'stopped'): Promise<void> {
    const sentAt = Date.now();
    await this.deps.registry.heartbeat(
      {
        id: this.options.id,
        instance: this.options.instance,
        startedAt: this.startedAt,
        state,
        inFlight: this.inFlight,
        factory: this.options.factory,
        host: hostname(),
        capacity: this.options.maxConcurrent,
        ...(this.lastStartedAt === undefined ? {} : { lastStartedAt: this.lastStartedAt }),
        ...(this.options.dispatchUrl ? { dispatchUrl: this.options.dispatchUrl } : {}),
      },
      sentAt,
    );
    this.lastBeatAt = Math.max(this.lastBeatAt, sentAt);
  }

  status(): { id: string; instance: string; inFlight: number; started: number; pool: PoolStatus } {
    return { id: this.options.id, instance: this.options.instance, inFlight: this.inFlight, started: this.started, pool: this.deps.pool.status() };
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopping) {
      const capacity = this.options.maxConcurrent - this.inFlight;
      if (capacity <= 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let messages: ReceivedMessage[];
      try {
        messages = await this.deps.queue.receive(capacity, this.options.pollWaitSeconds);
      } catch (error) {
        this.log.error({ err: error }, 'receive failed');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const message of messages) {
        // Received after stop was asked: handed straight back to the queue. (One that direct
        // dispatches left no room for during the long poll is run all the same: handing it back
        // would count as a receive, and three of those send it to the dead-letter queue.)
        if (this.stopping) {
          await this.deps.queue.setVisibility(message.receiptHandle, 0).catch(() => undefined);
          continue;
        }
        this.dispatch(message);
      }
    }
  }

  private dispatch(message: ReceivedMessage): void {
    // Keep the message invisible while it is worked on, however long that takes.
    const heartbeat = setInterval(() => {
      this.deps.queue.setVisibility(message.receiptHandle, this.options.visibilityTimeoutS).catch(() => undefined);
    }, (this.options.visibilityTimeoutS * 1000) / 3);
    void this.occupySlot(() => this.handle(message))
      .catch((error: unknown) => this.log.error({ err: error }, 'activation failed inside the invoker'))
      .finally(() => clearInterval(heartbeat));
  }

  /**
   * Runs `work` in one of this invoker's slots: counted in flight (taken before it starts) and
   * waited for by a stop until it settles; the poll loop is woken when the slot is free again.
   */
  private occupySlot<T>(work: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.started++;
    this.lastStartedAt = Date.now();
    const running = work();
    const task: Promise<void> = running
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.inFlight--;
        this.running.delete(task);
        const wake = this.slotFreed;
        this.slotFreed = undefined;
        wake?.();
      });
    this.running.add(task);
    return running;
  }

  /** Runs `work` for an activation as the one running here: another delivery of it waits for it. */
  private async asActive<T>(activationId: string, work: Promise<T>): Promise<T> {
    this.activeById.set(
      activationId,
      work.then(
        () => undefined,
        () => undefined,
      ),
    );
    try {
      return await work;
    } finally {
      this.activeById.delete(activationId);
    }
  }

  /**
   * Runs an activation a controller dispatched straight to this invoker (see dispatch-server.ts)
   * and returns its record. Refused when this invoker has no room or is stopping (the controller
   * tries another, or the queue). Claimed like a queued message, so a copy that reaches the queue
   * as well (a controller that lost the connection falls back to it) never runs twice;
   * `onClaimed` is told once the claim is stored, from when the activation is sure to end in a record.
   */
  /**
   * Runs a blocking activation a controller dispatched here, without claiming it first: the
   * controller never puts an activation it dispatched on the queue once an invoker may have it,
   * so no copy of it can run elsewhere (see runBlocking). `onAccepted` is called before it runs.
   * A dispatch that waited (`sentAt` long ago: in a socket while this process was stalled), or one
   * taken while this process's lease is stale, may have been given up on meanwhile (claimed in
   * this process's name, perhaps recorded as abandoned): it runs only once it is claimed here.
   */
  async runDirect(message: ActivationMessage, sentAt: number | undefined, onAccepted: () => void): Promise<DirectOutcome> {
    if (this.stopping || this.inFlight >= this.options.maxConcurrent) return { outcome: 'full' };
    if (this.activeById.has(message.activationId)) return { outcome: 'taken' };
    this.directRuns.set(message.activationId, message.namespace);
    return this.occupySlot(() =>
      this.asActive(
        message.activationId,
        (async (): Promise<DirectOutcome> => {
          try {
            if (!this.isFreshDispatch(sentAt)) {
              const refusal = await this.claimStaleDispatch(message);
              if (refusal) return refusal;
            }
            onAccepted();
            return { outcome: 'done', ...(await this.finishClaimed(message, newBudget(), { leased: false })) };
          } finally {
            this.directRuns.delete(message.activationId);
          }
        })(),
      ),
    );
  }

  /** Sent moments ago, to a process whose lease is current: nobody can have given up on it yet. */
  private isFreshDispatch(sentAt: number | undefined): boolean {
    const now = Date.now();
    return sentAt !== undefined && now - sentAt <= FRESH_DISPATCH_MS && now - this.lastBeatAt <= this.deps.registry.leaseMs / 2;
  }

  /** Renews this process's lease and claims the activation; what to answer instead of running it, if anything. */
  private async claimStaleDispatch(message: ActivationMessage): Promise<DirectOutcome | undefined> {
    await this.renewStaleLease();
    if (Date.now() - this.lastBeatAt > this.deps.registry.leaseMs / 2) return { outcome: 'full' };
    const claimed = await this.deps.activations.claimUnlessRecorded(message.namespace, message.activationId, this.claimant(), claimedActivationOf(message, true));
    return claimed ? undefined : { outcome: 'taken' };
  }

  /** The admitted activations dispatched here and not yet recorded: in flight, though no claim says so. */
  runningDirect(): Array<{ namespace: string; activationId: string }> {
    return [...this.directRuns].map(([activationId, namespace]) => ({ namespace, activationId }));
  }

  /** The process that holds what runs here (`id/instance`). */
  get holder(): string {
    return this.claimant();
  }

  private async handle(received: ReceivedMessage): Promise<void> {
    let message: ActivationMessage;
    try {
      message = activationMessageSchema.parse(JSON.parse(received.body));
    } catch {
      // Not ours to run: left undeleted, it reaches the dead-letter queue after maxReceiveCount.
      this.log.warn({ body: received.body.slice(0, 200) }, 'malformed activation message');
      return;
    }
    const active = this.activeById.get(message.activationId);
    if (active) {
      // Another delivery of an activation running here: it ends when that one does.
      await active.catch(() => undefined);
      await this.dropDuplicate(received, message);
      return;
    }
    await this.asActive(message.activationId, this.claimAndRun(received, message));
  }

  private async claimAndRun(received: ReceivedMessage, message: ActivationMessage): Promise<void> {
    // A process back from a stall renews its lease before taking more work under it.
    await this.renewStaleLease();
    const claimed = await this.deps.activations.claim(message.namespace, message.activationId, this.claimant(), claimedActivationOf(message, true));
    if (!claimed) {
      await this.dropDuplicate(received, message);
      return;
    }
    await this.finishClaimed(message, newBudget(), { leased: true });
    await this.deps.queue.delete(received.receiptHandle);
  }

  /**
   * Stores the record of an activation the controller admitted and counts it off its namespace's
   * in flight, both at once (one round trip): the count is put back when the write stored nothing
   * (another process recorded it first, and counted it off itself) or failed. `leased`: it came
   * through the queue, with a lease to delete.
   */
  private async completeTopLevel(record: ActivationRecord, message: ActivationMessage, leased: boolean, claimToken?: string): Promise<boolean> {
    const { namespace } = message;
    const [stored, countedOff] = await Promise.allSettled([
      this.deps.activations.complete(record, message.action.path, claimToken),
      retryFor(STORE_RETRY_MS, () => this.deps.throttles.countOff(namespace)),
    ]);
    if (countedOff.status === 'rejected') this.log.warn({ err: countedOff.reason }, 'could not count an activation off its namespace');
    else if (stored.status !== 'fulfilled' || !stored.value) {
      await retryFor(STORE_RETRY_MS, () => this.deps.throttles.countBack(namespace)).catch((error: unknown) => this.log.warn({ err: error }, 'could not count an activation back in'));
    }
    if (stored.status === 'rejected') throw stored.reason;
    if (leased) await this.deleteLease(message);
    return stored.value;
  }

  private async deleteLease(message: ActivationMessage): Promise<void> {
    await retryFor(STORE_RETRY_MS, () => this.deps.throttles.dropLease(message.namespace, message.activationId)).catch((error: unknown) =>
      this.log.warn({ err: error }, 'could not delete a throttle lease'),
    );
  }

  /**
   * Runs a claimed activation and stores its record; whatever fails, a claimed activation ends in a
   * record and is not run again. `topLevel`: a message from the bus (not a composition's component).
   */
  private async finishClaimed(message: ActivationMessage, budget: CompositionBudget, admitted?: { leased: boolean }): Promise<StoredOutcome> {
    this.claimed.set(message.activationId, { message, admitted });
    try {
      return await this.runAndStore(message, budget, admitted);
    } finally {
      this.claimed.delete(message.activationId);
    }
  }

  private async runAndStore(message: ActivationMessage, budget: CompositionBudget, admitted: { leased: boolean } | undefined): Promise<StoredOutcome> {
    let record: ActivationRecord;
    try {
      record = await this.runClaimed(message, budget);
    } catch (error) {
      this.log.error({ err: error, activationId: message.activationId }, 'activation failed inside the invoker');
      record =
        error instanceof UnrunnableActionError
          ? failedRecord(message, message.acceptedAt, error.message, error.blame)
          : failedRecord(message, message.acceptedAt, 'Failed to provision resources to run the action.');
    }
    const store = (r: ActivationRecord) => this.storeRecord(r, message, admitted);
    await this.renewStaleLease();
    try {
      return { record, stored: await store(record) };
    } catch (error) {
      this.log.error({ err: error, activationId: message.activationId }, 'the activation record could not be stored');
      record = failedRecord(message, record.start, 'The activation record could not be stored.');
      return { record, stored: await store(record) };
    }
  }

  /** A component of a sequence or conductor, run here to its record. */
  private async runChild(message: ActivationMessage, budget: CompositionBudget): Promise<ActivationRecord> {
    if (!(await this.deps.activations.claim(message.namespace, message.activationId, this.claimant(), claimedActivationOf(message, false)))) {
      throw new Error(`the fresh activation id ${message.activationId} was already claimed`);
    }
    return (await this.finishClaimed(message, budget)).record;
  }

  private claimant(): string {
    return claimantOf(this.options);
  }

  /**
   * A delivery that lost the claim: deleted once the activation has its record, else looked at
   * again later while the claim's holder runs. A claim whose holder is gone was abandoned: under
   * this invoker's id but not running here (an earlier instance died), or by an invoker that is
   * offline or stopped. The action may have started, so it is not run again; it ends in a whisk
   * internal error record (which a late holder can no longer overwrite).
   */
  private async dropDuplicate(received: ReceivedMessage, message: ActivationMessage): Promise<void> {
    if (await this.deps.activations.get(message.namespace, message.activationId)) {
      this.log.info({ activationId: message.activationId }, 'duplicate delivery of a finished activation; dropped');
      // Its lease may not have been deleted, had the process that stored the record died right
      // after (or run it from a direct dispatch, which has none of its own).
      await this.deleteLease(message);
      await this.deps.queue.delete(received.receiptHandle);
      return;
    }
    const holder = await this.deps.activations.claimHolder(message.namespace, message.activationId);
    if (holder && (await this.holderIsGone(holder.invoker))) {
      this.log.warn({ activationId: message.activationId, holder: holder.invoker }, 'activation claimed by an invoker that is gone; recording it as failed');
      await this.completeTopLevel(failedRecord(message, holder.claimedAt, ABANDONED_ERROR), message, true, holder.claimToken);
      await this.deps.queue.delete(received.receiptHandle);
      return;
    }
    await this.deps.queue.setVisibility(received.receiptHandle, this.options.duplicateRecheckS);
  }

  /** A claim of this very process is gone too: when this runs, another delivery here was awaited first. */
  private async holderIsGone(claimant: string): Promise<boolean> {
    return claimant === this.claimant() || this.deps.registry.holderIsGone(claimant, this.options);
  }

  private async loadAction(message: ActivationMessage): Promise<StoredAction | undefined> {
    const cacheKey = `${message.action.namespace}/${message.action.path}@${message.action.revision}`;
    const cached = this.actionCache.get(cacheKey);
    if (cached) return cached;
    const stored = await this.deps.entities.get<StoredAction>(message.action.namespace, 'actions', message.action.path);
    if (!stored) return undefined;
    const action = { ...stored.doc, revision: stored.revision };
    if (stored.revision === message.action.revision) {
      if (this.actionCache.size > 1000) this.actionCache.clear();
      this.actionCache.set(cacheKey, action);
    }
    return action;
  }

  /** The action of a message with its bound parameters, resolved by the name the controller resolved. */
  private resolveForMessage(message: ActivationMessage): Promise<ResolvedAction> {
    const path = parseEntityPath(message.action.path)!;
    if (!message.binding) return resolveAction(this.deps.entities, message.namespace, { namespace: message.action.namespace, path });
    const [namespace, binding] = message.binding.split('/');
    return resolveAction(this.deps.entities, message.namespace, { namespace, path: { pkg: binding, name: path.name } });
  }

  private async runClaimed(message: ActivationMessage, budget: CompositionBudget): Promise<ActivationRecord> {
    const action = await this.loadAction(message);
    const pathAnnotation = `${message.action.namespace}/${message.action.path}`;
    if (!action) return failedRecord(message, Date.now(), 'The requested resource does not exist.');
    const runner = { entities: this.deps.entities, runChild: (child: ActivationMessage, b: CompositionBudget) => this.runChild(child, b) };
    if (isSequence(action)) return runSequence(runner, message, action, budget);
    if (isConductor(action) && !message.conductorStep) return runConductor(runner, message, await this.resolveForMessage(message), budget);
    const warmKey = `${message.namespace}|${message.action.namespace}/${message.action.path}|${action.revision}`;
    const lease = await this.deps.pool.acquire(
      warmKey,
      { kind: action.exec.kind, image: action.exec.image, memoryMb: action.limits.memory, env: {}, name: pathAnnotation },
      action.limits.concurrency,
    );
    // The activation starts once it has a container: queueing and creation count as waitTime.
    const acquiredAt = Date.now();
    const { container } = lease;
    const warm = lease.start === 'warm';
    let execution: Execution;
    let logLines: string[] = [];
    let keep = false;
    try {
      // The controller merged the bound parameters under the payload; init parameters go to /init only.
      const { initParams } = splitParameters(action.parameters);
      const deadline = acquiredAt + action.limits.timeout;
      execution = await execute(
        container,
        !warm,
        () => buildInitPayload(action, message, initParams, deadline),
        buildRunPayload(action, message, message.params, deadline),
        action.limits.timeout,
        lease.initialised,
      );
      // Activations sharing a container interleave their output: as in OpenWhisk, their records carry
      // no logs (what was printed is drained and dropped).
      if (action.limits.concurrency > 1) await container.collectLogs(0, 0);
      else logLines = (await container.collectLogs(action.limits.logs * 1024 * 1024, execution.keepContainer ? LOG_FRAME_WAIT_MS : 200)).lines;
      keep = execution.keepContainer;
    } finally {
      // Whatever threw, the container goes back exactly once, and is not kept after a failure.
      lease.release(keep);
    }

    const start = warm ? execution.runStart : acquiredAt;
    const end = execution.runEnd;
    const annotations = [
      { key: 'path', value: pathAnnotation },
      { key: 'waitTime', value: Math.max(0, start - message.acceptedAt) },
      { key: 'kind', value: action.exec.kind },
      { key: 'timeout', value: execution.timedOut },
      { key: 'limits', value: recordLimits(action.limits) },
      ...(execution.initTimeMs !== undefined ? [{ key: 'initTime', value: execution.initTimeMs }] : []),
      ...(message.causedBy ? [{ key: 'causedBy', value: message.causedBy }] : []),
      ...(message.binding ? [{ key: 'binding', value: message.binding }] : []),
    ];
    return { ...recordEnvelope(message, action.name, action.version), start, end, duration: end - start, response: execution.response, logs: logLines, annotations };
  }
}
