import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded queue's write-ahead journal: every change to the queues is appended to a file
 * before the request that made it is answered, so the queues come back exactly as they were
 * whichever moment the endpoint process dies. A message is flushed to the disk (fdatasync) before
 * `SendMessage` answers; receives, visibility changes and deletes are written to the file (the
 * kernel keeps them when the process dies; after a power loss the last of them may be missing,
 * which at worst delivers a message once more, and the invoker's claim keeps it from running twice).
 *
 * The journal is compacted into `snapshot.jsonl` once it grows long: the snapshot says which
 * journal generation follows it, and is renamed into place before that generation's file is
 * started, so every crash leaves either the old snapshot with its whole journal or the new one.
 */

/** A message as the queue holds it (fauxqs's shape: plain JSON). */
export interface JournalMessage {
  messageId: string;
  [field: string]: unknown;
}

export interface QueueMeta {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface JournalledMessage {
  message: JournalMessage;
  /** Set while the message is in flight: the receipt handle its consumer holds, and until when. */
  inflight?: { receiptHandle: string; visibilityDeadline: number };
}

export interface QueueState {
  meta: QueueMeta;
  /** In the order the messages were sent (or made visible again). */
  messages: Map<string, JournalledMessage>;
}

export type JournalEvent =
  | { e: 'queue'; meta: QueueMeta }
  | { e: 'attributes'; queue: string; attributes: Record<string, string> }
  | { e: 'dropQueue'; queue: string }
  | { e: 'purge'; queue: string }
  /** A message put into a queue: sent, or moved there (to the dead-letter queue) from another. */
  | { e: 'put'; queue: string; message: JournalMessage }
  | { e: 'receive'; queue: string; id: string; receiptHandle: string; visibilityDeadline: number; receiveCount: number; firstReceiveAt?: number }
  /** A new visibility deadline; 0: visible again at once. */
  | { e: 'visibility'; queue: string; id: string; visibilityDeadline: number }
  | { e: 'delete'; queue: string; id: string };

/**
 * The snapshot is JSON lines too (a backlog may be larger than one JavaScript string can hold):
 * a header naming the journal generation that continues it and the queues, then one line per
 * message, in each queue's order.
 */
interface SnapshotHeader {
  generation: number;
  queues: QueueMeta[];
}

interface SnapshotLine extends JournalledMessage {
  queue: string;
}

/** The queues' state, rebuilt by applying events in order. */
export class QueueStateModel {
  readonly queues = new Map<string, QueueState>();
  /** Which queue holds each message, so a move to the dead-letter queue leaves the source. */
  private readonly queueOf = new Map<string, string>();

  apply(event: JournalEvent): void {
    switch (event.e) {
      case 'queue':
        if (!this.queues.has(event.meta.name)) this.queues.set(event.meta.name, { meta: event.meta, messages: new Map() });
        return;
      case 'attributes': {
        const queue = this.queues.get(event.queue);
        if (queue) Object.assign(queue.meta.attributes, event.attributes);
        return;
      }
      case 'dropQueue':
      case 'purge': {
        const queue = this.queues.get(event.queue);
        if (!queue) return;
        for (const id of queue.messages.keys()) this.queueOf.delete(id);
        if (event.e === 'dropQueue') this.queues.delete(event.queue);
        else queue.messages.clear();
        return;
      }
      case 'put': {
        const from = this.queueOf.get(event.message.messageId);
        if (from !== undefined) this.queues.get(from)?.messages.delete(event.message.messageId);
        const queue = this.queues.get(event.queue);
        if (!queue) return;
        queue.messages.set(event.message.messageId, { message: event.message });
        this.queueOf.set(event.message.messageId, event.queue);
        return;
      }
      case 'receive': {
        const held = this.queues.get(event.queue)?.messages.get(event.id);
        if (!held) return;
        held.message.approximateReceiveCount = event.receiveCount;
        if (event.firstReceiveAt !== undefined) held.message.approximateFirstReceiveTimestamp = event.firstReceiveAt;
        held.inflight = { receiptHandle: event.receiptHandle, visibilityDeadline: event.visibilityDeadline };
        return;
      }
      case 'visibility': {
        const queue = this.queues.get(event.queue);
        const held = queue?.messages.get(event.id);
        if (!queue || !held?.inflight) return;
        if (event.visibilityDeadline === 0) {
          // Visible again at once: it goes to the back of the queue, as the emulator puts it.
          queue.messages.delete(event.id);
          queue.messages.set(event.id, { message: held.message });
        } else held.inflight.visibilityDeadline = event.visibilityDeadline;
        return;
      }
      case 'delete':
        if (this.queues.get(event.queue)?.messages.delete(event.id)) this.queueOf.delete(event.id);
        return;
    }
  }

  addQueue(meta: QueueMeta): void {
    this.queues.set(meta.name, { meta, messages: new Map() });
  }

  addMessage(queue: string, held: JournalledMessage): void {
    const state = this.queues.get(queue);
    if (!state) return;
    state.messages.set(held.message.messageId, held);
    this.queueOf.set(held.message.messageId, queue);
  }
}

const SNAPSHOT = 'snapshot.jsonl';
const READ_CHUNK_BYTES = 1 << 20;
const journalFile = (generation: number) => `journal-${generation}.jsonl`;

/** Reads a file line by line, in chunks (it may be larger than one string can hold). */
function forEachLine(file: string, onLine: (line: string, last: boolean) => void): void {
  if (!existsSync(file)) return;
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    let pending: Buffer[] = [];
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1 && nl < read; nl = chunk.indexOf(10, start)) {
        const line = Buffer.concat([...pending, chunk.subarray(start, nl)]).toString('utf8');
        pending = [];
        if (line) onLine(line, false);
        start = nl + 1;
      }
      if (start < read) pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    // What follows the last newline was cut short by the crash (every line ends in one).
    if (pending.length) onLine(Buffer.concat(pending).toString('utf8'), true);
  } finally {
    closeSync(fd);
  }
}

/** Parses a journal or snapshot line; only the unterminated last one may be torn (and is skipped). */
function parseLine<T>(file: string, line: string, last: boolean): T | undefined {
  if (last) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${file} holds a line that is not JSON before its end: the queue journal is damaged.`);
  }
}

export interface JournalOptions {
  /** Events after which the journal is compacted into a snapshot. */
  compactAfterEvents?: number;
  /** Bytes after which it is, whatever the count. */
  compactAfterBytes?: number;
}

/** Writes all of `text` (a write may be short). */
function writeAll(fd: number, text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
  return bytes.length;
}

/** The journal of one data directory: recover it once, then append to it. */
export class QueueJournal {
  private fd: number | undefined;
  private generation = 0;
  private eventsSinceSnapshot = 0;
  private bytesSinceSnapshot = 0;
  private readonly compactAfterEvents: number;
  private readonly compactAfterBytes: number;

  constructor(
    private readonly dir: string,
    options: JournalOptions = {},
  ) {
    this.compactAfterEvents = options.compactAfterEvents ?? 50_000;
    this.compactAfterBytes = options.compactAfterBytes ?? 64 * 1024 * 1024;
  }

  /** The queues as the journal left them; opens the journal for appending. */
  recover(): QueueStateModel {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const model = new QueueStateModel();
    const snapshotPath = join(this.dir, SNAPSHOT);
    let header = true;
    forEachLine(snapshotPath, (line) => {
      // The snapshot was renamed into place whole: no line of it is torn.
      const parsed = parseLine<SnapshotHeader | SnapshotLine>(snapshotPath, line, false);
      if (header) {
        const { generation, queues } = parsed as SnapshotHeader;
        this.generation = generation;
        queues.forEach((meta) => model.addQueue(meta));
        header = false;
      } else {
        const { queue, ...held } = parsed as SnapshotLine;
        model.addMessage(queue, held);
      }
    });
    const journalPath = join(this.dir, journalFile(this.generation));
    forEachLine(journalPath, (line, last) => {
      const event = parseLine<JournalEvent>(journalPath, line, last);
      if (event) model.apply(event);
    });
    // Generations before the snapshot's are left by a crash during compaction: already in it.
    for (const name of readdirSync(this.dir)) {
      const match = /^journal-(\d+)\.jsonl$/.exec(name);
      if (match && Number(match[1]) !== this.generation) unlinkSync(join(this.dir, name));
    }
    // Rewritten whole, so a torn last line never sits before new events.
    this.compact(model);
    return model;
  }

  /** Appends an event; `flush`: on the disk before this returns. */
  append(event: JournalEvent, flush = false): void {
    if (this.fd === undefined) throw new Error('The queue journal is not open.');
    this.bytesSinceSnapshot += writeAll(this.fd, `${JSON.stringify(event)}\n`);
    if (flush) fdatasyncSync(this.fd);
    this.eventsSinceSnapshot++;
  }

  /** Whether the journal has grown enough to be compacted. */
  get wantsCompaction(): boolean {
    return this.eventsSinceSnapshot >= this.compactAfterEvents || this.bytesSinceSnapshot >= this.compactAfterBytes;
  }

  /** Writes `model` as the snapshot and starts an empty journal generation after it. */
  compact(model: { queues: Map<string, QueueState> }): void {
    const next = this.generation + 1;
    const tmp = join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    const queues = [...model.queues.values()];
    writeAll(fd, `${JSON.stringify({ generation: next, queues: queues.map((q) => q.meta) } satisfies SnapshotHeader)}\n`);
    for (const queue of queues) {
      for (const held of queue.messages.values()) writeAll(fd, `${JSON.stringify({ queue: queue.meta.name, ...held } satisfies SnapshotLine)}\n`);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.dir, SNAPSHOT));
    const previous = this.fd;
    this.fd = openSync(join(this.dir, journalFile(next)), 'a', 0o600);
    fsyncSync(this.fd);
    if (previous !== undefined) closeSync(previous);
    const old = join(this.dir, journalFile(this.generation));
    if (existsSync(old)) unlinkSync(old);
    this.generation = next;
    this.eventsSinceSnapshot = 0;
    this.bytesSinceSnapshot = 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
