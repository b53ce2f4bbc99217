import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JournalledMessage, JournalMessage, QueueJournal, QueueMeta, QueueState, QueueStateModel } from './queue-journal';

/**
 * fauxqs's queue store (it keeps every message in memory), with each change written to the
 * queue journal as it is made. fauxqs takes a store of our making (`buildApp({ stores })`); its
 * class is not among the package's exports, so it is loaded from the package's own files (the
 * version is pinned by the lockfile, and the endpoint's tests exercise every method wrapped here).
 */

interface InflightEntry {
  message: JournalMessage;
  receiptHandle: string;
  visibilityDeadline: number;
}

export interface FauxqsQueue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
  messages: JournalMessage[];
  delayedMessages: JournalMessage[];
  inflightMessages: Map<string, InflightEntry>;
  fifoMessages: Map<string, JournalMessage[]>;
  fifoDelayed: Map<string, JournalMessage[]>;
  fifoLockedGroups: Map<string, number>;
  sequenceCounter: number;
  isFifo(): boolean;
  enqueue(message: JournalMessage): void;
  dequeue(maxCount: number, visibilityTimeout?: number, dlqResolver?: (arn: string) => FauxqsQueue | undefined): Array<{ ReceiptHandle: string }>;
  deleteMessage(receiptHandle: string): boolean;
  changeVisibility(receiptHandle: string, timeoutSeconds: number): void;
  purge(): void;
  setAttributes(attributes: Record<string, string>): void;
}

export interface FauxqsStore {
  queues: Map<string, FauxqsQueue>;
  createQueue(name: string, url: string, arn: string, attributes?: Record<string, string>, tags?: Record<string, string>): FauxqsQueue;
  deleteQueue(url: string): boolean;
  getQueue(url: string): FauxqsQueue | undefined;
  getQueueByName(name: string): FauxqsQueue | undefined;
}

/** The directory fauxqs is installed in, found the way `require` would look for it. */
function fauxqsDir(): string {
  for (const dir of require.resolve.paths('fauxqs') ?? []) {
    if (existsSync(join(dir, 'fauxqs', 'package.json'))) return join(dir, 'fauxqs');
  }
  throw new Error('fauxqs is not installed.');
}

async function newFauxqsStore(): Promise<FauxqsStore> {
  const module = (await import(pathToFileURL(join(fauxqsDir(), 'dist', 'sqs', 'sqsStore.js')).href)) as { SqsStore: new () => FauxqsStore };
  return new module.SqsStore();
}

/** Every message of a live queue: ready, delayed and in flight. */
function messagesOf(queue: FauxqsQueue): JournalledMessage[] {
  const waiting = queue.isFifo() ? [...[...queue.fifoMessages.values()].flat(), ...[...queue.fifoDelayed.values()].flat()] : [...queue.messages, ...queue.delayedMessages];
  return [
    ...[...queue.inflightMessages.values()].map(({ message, receiptHandle, visibilityDeadline }) => ({ message, inflight: { receiptHandle, visibilityDeadline } })),
    ...waiting.map((message) => ({ message })),
  ];
}

function metaOf(queue: FauxqsQueue): QueueMeta {
  return { name: queue.name, url: queue.url, arn: queue.arn, attributes: { ...queue.attributes }, tags: Object.fromEntries(queue.tags) };
}

/** The live queues in the journal's shape (what a compaction writes). */
export function liveState(store: FauxqsStore): { queues: Map<string, QueueState> } {
  const queues = new Map<string, QueueState>();
  for (const queue of store.queues.values()) {
    queues.set(queue.name, { meta: metaOf(queue), messages: new Map(messagesOf(queue).map((m) => [m.message.messageId, m])) });
  }
  return { queues };
}

/**
 * A fauxqs store holding what `recovered` holds, whose every later change is appended to
 * `journal` before the request making it is answered.
 */
export async function durableSqsStore(journal: QueueJournal, recovered: QueueStateModel): Promise<FauxqsStore> {
  const store = await newFauxqsStore();
  let restoring = true;
  // A change the journal could not take (a full disk) would make memory and disk disagree: the
  // process ends instead, and its replacement starts from what the disk holds.
  const fatal = (what: string, error: unknown) => {
    console.error(`The queue journal could not ${what}; stopping the endpoint.`, error);
    process.exit(70);
  };
  const compactSoon = () => {
    if (!journal.wantsCompaction) return;
    setImmediate(() => {
      try {
        if (journal.wantsCompaction) journal.compact(liveState(store));
      } catch (error) {
        fatal('be compacted', error);
      }
    });
  };
  const record = (...args: Parameters<QueueJournal['append']>) => {
    if (restoring) return;
    try {
      journal.append(...args);
    } catch (error) {
      fatal('be written', error);
    }
    compactSoon();
  };

  const instrument = (queue: FauxqsQueue) => {
    const { enqueue, dequeue, deleteMessage, changeVisibility, purge, setAttributes } = queue;
    // A message is accepted once it is on the disk: flushed before SendMessage answers.
    queue.enqueue = (message) => {
      enqueue.call(queue, message);
      record({ e: 'put', queue: queue.name, message }, true);
    };
    queue.dequeue = (maxCount, visibilityTimeout, dlqResolver) => {
      const received = dequeue.call(queue, maxCount, visibilityTimeout, dlqResolver);
      for (const { ReceiptHandle } of received) {
        const entry = queue.inflightMessages.get(ReceiptHandle);
        if (!entry) continue;
        record({
          e: 'receive',
          queue: queue.name,
          id: entry.message.messageId,
          receiptHandle: ReceiptHandle,
          visibilityDeadline: entry.visibilityDeadline,
          receiveCount: Number(entry.message.approximateReceiveCount),
          firstReceiveAt: entry.message.approximateFirstReceiveTimestamp as number | undefined,
        });
      }
      return received;
    };
    queue.deleteMessage = (receiptHandle) => {
      const entry = queue.inflightMessages.get(receiptHandle);
      const deleted = deleteMessage.call(queue, receiptHandle);
      if (deleted && entry) record({ e: 'delete', queue: queue.name, id: entry.message.messageId });
      return deleted;
    };
    queue.changeVisibility = (receiptHandle, timeoutSeconds) => {
      const entry = queue.inflightMessages.get(receiptHandle);
      changeVisibility.call(queue, receiptHandle, timeoutSeconds);
      if (entry) record({ e: 'visibility', queue: queue.name, id: entry.message.messageId, visibilityDeadline: timeoutSeconds === 0 ? 0 : entry.visibilityDeadline });
    };
    queue.purge = () => {
      purge.call(queue);
      record({ e: 'purge', queue: queue.name });
    };
    queue.setAttributes = (attributes) => {
      setAttributes.call(queue, attributes);
      record({ e: 'attributes', queue: queue.name, attributes });
    };
  };

  const { createQueue, deleteQueue, getQueue } = store;
  store.createQueue = (name, url, arn, attributes, tags) => {
    const queue = createQueue.call(store, name, url, arn, attributes, tags);
    instrument(queue);
    record({ e: 'queue', meta: metaOf(queue) }, true);
    return queue;
  };
  store.deleteQueue = (url) => {
    const queue = store.getQueue(url);
    const deleted = deleteQueue.call(store, queue?.url ?? url);
    if (deleted && queue) record({ e: 'dropQueue', queue: queue.name }, true);
    return deleted;
  };
  // A queue URL names the endpoint's port; one handed out before a restart on another port still
  // names the queue (the account and region are the endpoint's only ones).
  store.getQueue = (url) => getQueue.call(store, url) ?? store.getQueueByName(url.slice(url.lastIndexOf('/') + 1));

  for (const { meta, messages } of recovered.queues.values()) {
    const queue = store.createQueue(meta.name, meta.url, meta.arn, meta.attributes, meta.tags);
    for (const { message, inflight } of messages.values()) {
      if (!inflight) {
        queue.enqueue(message);
        continue;
      }
      // Still hidden until its deadline, under the receipt handle its consumer holds (the
      // emulator returns expired ones to the queue by itself).
      queue.inflightMessages.set(inflight.receiptHandle, { message, ...inflight });
      const group = message.messageGroupId as string | undefined;
      if (queue.isFifo() && group) queue.fifoLockedGroups.set(group, (queue.fifoLockedGroups.get(group) ?? 0) + 1);
    }
    if (queue.isFifo()) {
      queue.sequenceCounter = Math.max(0, ...[...messages.values()].map((m) => Number(m.message.sequenceNumber ?? 0)));
    }
  }
  restoring = false;
  return store;
}
