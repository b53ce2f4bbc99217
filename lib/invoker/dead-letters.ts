import type { Logger } from 'pino';
import type { InvocationQueue, ReceivedMessage } from '../bus/invocation-queue';
import type { ActivationsRepository } from '../store/activations';
import { claimantOf, type InvokerRegistry } from '../store/invoker-registry';
import type { ThrottleCounters } from '../store/throttle-counters';
import { ABANDONED_ERROR, DEAD_LETTER_ERROR, deadLetterActivation, failedRecord } from './failed-records';

export interface DeadLetterDrainerDeps {
  deadLetters: InvocationQueue;
  activations: ActivationsRepository;
  registry: InvokerRegistry;
  throttles: Pick<ThrottleCounters, 'countOff' | 'deleteLease'>;
}

/** Messages kept in the dead-letter queue for operators are looked at again this rarely (SQS's maximum). */
const KEEP_HIDDEN_S = 43_200;
/** A dead letter whose activation is still running somewhere is looked at again after this long. */
const RUNNING_RECHECK_S = 30;

/**
 * Gives every activation whose message reached the dead-letter queue a terminal record, so no id a
 * client holds stays without one. Per message:
 * - it names no activation (not JSON, no id or namespace): kept for operators;
 * - its activation has a record from a normal run: a late duplicate, deleted;
 * - its activation is still claimed by a live invoker: looked at again later;
 * - otherwise it is claimed (if nobody holds it) and ended in a whisk internal error record, and the
 *   message is kept for operators, as is one whose activation already has such a record.
 */
export class DeadLetterDrainer {
  /** Activations this drainer ended in a record because their message was dead-lettered. */
  private recordedCount = 0;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: DeadLetterDrainerDeps,
    private readonly options: { self: { id: string; instance: string }; pollWaitSeconds: number },
    private readonly log: Logger,
  ) {}

  start(): void {
    this.loop = this.pollLoop();
  }

  /** How many activations it ended in a record so far (what operators are told about). */
  get recorded(): number {
    return this.recordedCount;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.loop;
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopping) {
      try {
        const messages = await this.deps.deadLetters.receive(10, this.options.pollWaitSeconds, this.abort.signal);
        for (const message of messages) await this.drain(message);
      } catch (error) {
        if (this.stopping) break;
        this.log.error({ err: error }, 'dead-letter drain failed');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Handles one dead letter (see the class comment). */
  async drain(message: ReceivedMessage): Promise<void> {
    const { activations, deadLetters, registry } = this.deps;
    const activation = deadLetterActivation(message.body);
    if (!activation) {
      this.log.warn({ body: message.body.slice(0, 200) }, 'dead letter without an activation id; kept in the dead-letter queue');
      await deadLetters.setVisibility(message.receiptHandle, KEEP_HIDDEN_S);
      return;
    }
    const { namespace, activationId } = activation;
    const record = await activations.get(namespace, activationId);
    if (record) {
      // Counted off by whoever stored it; its lease may be left, had that process died right after.
      await this.deps.throttles.deleteLease(namespace, activationId).catch(() => undefined);
      if (record.response.statusCode === 3) await deadLetters.setVisibility(message.receiptHandle, KEEP_HIDDEN_S);
      else await deadLetters.delete(message.receiptHandle);
      return;
    }
    const holder = await activations.claimHolder(namespace, activationId);
    if (holder && !(await registry.holderIsGone(holder.invoker, this.options.self))) {
      await deadLetters.setVisibility(message.receiptHandle, RUNNING_RECHECK_S);
      return;
    }
    if (!holder && !(await activations.claim(namespace, activationId, claimantOf(this.options.self)))) {
      // Claimed or finished since it was read: looked at again shortly.
      await deadLetters.setVisibility(message.receiptHandle, 1);
      return;
    }
    const failed = holder ? failedRecord(activation, holder.claimedAt, ABANDONED_ERROR) : failedRecord(activation, Date.now(), DEAD_LETTER_ERROR);
    if (await activations.complete(failed, activation.action.path)) {
      this.recordedCount++;
      this.log.warn({ activationId, namespace }, 'dead-lettered activation recorded as failed');
      await this.deps.throttles.countOff(namespace).catch(() => undefined);
    }
    await this.deps.throttles.deleteLease(namespace, activationId).catch(() => undefined);
    await deadLetters.setVisibility(message.receiptHandle, KEEP_HIDDEN_S);
  }
}
