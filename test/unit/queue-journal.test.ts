import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueJournal, QueueStateModel, type JournalEvent } from '../../lib/local/queue-journal';

// The embedded queue's journal: what a restarted endpoint finds is what the queues held when the
// previous one died, whatever it was doing.

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'journal-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const meta = (name: string) => ({ name, url: `http://q/000000000000/${name}`, arn: `arn:aws:sqs:us-east-1:000000000000:${name}`, attributes: {}, tags: {} });
const message = (id: string) => ({ messageId: id, body: `body of ${id}`, approximateReceiveCount: 0 });

function write(events: JournalEvent[], options = {}): QueueJournal {
  const journal = new QueueJournal(dir, options);
  journal.recover();
  for (const event of events) journal.append(event);
  return journal;
}

function recovered(): QueueStateModel {
  const journal = new QueueJournal(dir);
  const model = journal.recover();
  journal.close();
  return model;
}

const ids = (model: QueueStateModel, queue: string) => [...(model.queues.get(queue)?.messages.keys() ?? [])];

const basics: JournalEvent[] = [
  { e: 'queue', meta: meta('work') },
  { e: 'queue', meta: meta('dead') },
  { e: 'put', queue: 'work', message: message('m1') },
  { e: 'put', queue: 'work', message: message('m2') },
  { e: 'put', queue: 'work', message: message('m3') },
  { e: 'receive', queue: 'work', id: 'm1', receiptHandle: 'h1', visibilityDeadline: 5000, receiveCount: 1, firstReceiveAt: 1000 },
  { e: 'receive', queue: 'work', id: 'm2', receiptHandle: 'h2', visibilityDeadline: 5000, receiveCount: 1 },
  { e: 'delete', queue: 'work', id: 'm2' },
];

test.each([
  ['a sent message is back, a deleted one is not', basics, { work: ['m1', 'm3'], dead: [] }],
  ['a message made visible again goes to the back of the queue', [...basics, { e: 'visibility', queue: 'work', id: 'm1', visibilityDeadline: 0 } as const], { work: ['m3', 'm1'], dead: [] }],
  ['a message moved to the dead-letter queue is only there', [...basics, { e: 'put', queue: 'dead', message: { ...message('m3'), approximateReceiveCount: 4 } } as const], { work: ['m1'], dead: ['m3'] }],
  ['a purged queue is empty, and stays a queue', [...basics, { e: 'purge', queue: 'work' } as const], { work: [], dead: [] }],
] as Array<[string, JournalEvent[], Record<string, string[]>]>)('%s', (_name, events, expected) => {
  write(events).close();
  const model = recovered();
  expect(Object.fromEntries([...model.queues.keys()].map((q) => [q, ids(model, q)]))).toEqual(expected);
});

test('an in-flight message comes back in flight, under the receipt handle its consumer holds, with its receive count', () => {
  write([...basics, { e: 'visibility', queue: 'work', id: 'm1', visibilityDeadline: 9000 }]).close();
  const m1 = recovered().queues.get('work')!.messages.get('m1')!;
  expect(m1.inflight).toEqual({ receiptHandle: 'h1', visibilityDeadline: 9000 });
  expect(m1.message).toMatchObject({ approximateReceiveCount: 1, approximateFirstReceiveTimestamp: 1000 });
});

test('a dropped queue is gone, attributes set later are kept', () => {
  write([...basics, { e: 'attributes', queue: 'work', attributes: { VisibilityTimeout: '7' } }, { e: 'dropQueue', queue: 'dead' }]).close();
  const model = recovered();
  expect([...model.queues.keys()]).toEqual(['work']);
  expect(model.queues.get('work')!.meta.attributes).toEqual({ VisibilityTimeout: '7' });
});

test('a last line torn by the crash is ignored, and the events before it are kept', () => {
  write(basics).close();
  const journalFile = readdirSync(dir).find((f) => f.startsWith('journal-'))!;
  appendFileSync(join(dir, journalFile), '{"e":"delete","queue":"work","id":"m');
  expect(ids(recovered(), 'work')).toEqual(['m1', 'm3']);
  // Recovery rewrote the journal: events appended after it are not stuck behind the torn line.
  write([{ e: 'delete', queue: 'work', id: 'm3' }]).close();
  expect(ids(recovered(), 'work')).toEqual(['m1']);
});

test('compaction keeps the state, and later events apply on top of it', () => {
  const journal = write(basics, { compactAfterEvents: 3 });
  expect(journal.wantsCompaction).toBe(true);
  const model = new QueueStateModel();
  basics.forEach((event) => model.apply(event));
  journal.compact(model);
  expect(journal.wantsCompaction).toBe(false);
  journal.append({ e: 'put', queue: 'work', message: message('m4') });
  journal.close();
  expect(ids(recovered(), 'work')).toEqual(['m1', 'm3', 'm4']);
  expect(readdirSync(dir).filter((f) => f.startsWith('journal-'))).toHaveLength(1);
});

test('a crash while compacting (the new snapshot not yet in place) loses nothing', () => {
  write(basics).close();
  // What a compaction that died before its rename leaves: a partial snapshot beside the journal.
  writeFileSync(join(dir, 'snapshot.jsonl.tmp'), '{"generation": 9, "queu');
  expect(ids(recovered(), 'work')).toEqual(['m1', 'm3']);
});

test('a line damaged before the end of the journal stops the recovery loudly instead of dropping what follows', () => {
  write(basics).close();
  const journalFile = readdirSync(dir).find((f) => f.startsWith('journal-'))!;
  appendFileSync(join(dir, journalFile), '{"e":"delete"\n{"e":"put","queue":"work","message":{"messageId":"m9"}}\n');
  expect(() => recovered()).toThrow(/damaged/);
});

test('messages larger than the read chunk, and a journal compacted by size, come back whole', () => {
  const big = 'x'.repeat(1_500_000);
  const journal = write([{ e: 'queue', meta: meta('work') }], { compactAfterBytes: 2_000_000 });
  journal.append({ e: 'put', queue: 'work', message: { ...message('big1'), body: big } });
  expect(journal.wantsCompaction).toBe(false);
  journal.append({ e: 'put', queue: 'work', message: { ...message('big2'), body: big } });
  expect(journal.wantsCompaction).toBe(true);
  journal.close();
  const model = recovered();
  expect([...model.queues.get('work')!.messages.values()].map((m) => [m.message.messageId, (m.message.body as string).length])).toEqual([
    ['big1', big.length],
    ['big2', big.length],
  ]);
  // Recovery wrote the snapshot (JSON lines) and it reads back the same.
  expect(ids(recovered(), 'work')).toEqual(['big1', 'big2']);
});
