import { configFromEnv } from '../../lib/config';
import type { ActivationRecord } from '../../lib/model/activation';
import { newActivationId } from '../../lib/model/activation-id';
import { ActivationsRepository } from '../../lib/store/activations';
import { SkipCursors } from '../../lib/store/skip-cursors';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// Paging a namespace's activations with limit and skip, as `wsk activation list --skip` does:
// skipped records are walked over by their keys only, and every page is exactly the slice of the
// whole list that offset paging gives, with or without a name or a time range, claims among them.

let endpoint: EmbeddedEndpoint;
let activations: ActivationsRepository;
const ids: string[] = [];

function recordOf(activationId: string, name: string, start: number): ActivationRecord {
  return {
    activationId, namespace: 'pager', name, version: '0.0.1', subject: 'pager', publish: false,
    start, end: start + 1, duration: 1, response: { status: 'success', statusCode: 0, success: true, result: {} }, logs: [], annotations: [],
  } as ActivationRecord;
}

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('PAGINGTEST');
  activations = new ActivationsRepository(endpoint.clients.dynamo, configFromEnv({}).tables.activations, 1);
  for (let i = 0; i < 30; i++) {
    const id = newActivationId();
    ids.push(id);
    // Every fifth is still running (a claim), which no page lists.
    if (i % 5 === 4) await activations.claim('pager', id, 'invoker-a/1');
    else await activations.complete(recordOf(id, i % 2 ? 'odd' : 'even', Date.now()), i % 2 ? 'odd' : 'even');
    await new Promise((r) => setTimeout(r, 2));
  }
}, 60_000);

afterAll(() => endpoint?.stop());

const idsOf = (records: ActivationRecord[]) => records.map((r) => r.activationId);

test.each([
  ['the first page', 0, 5],
  ['a page after a skip', 7, 5],
  ['a skip ending on a claim', 3, 4],
  ['the last, short page', 20, 10],
  ['a skip past the end', 40, 5],
])('%s is the slice of the whole list', async (_why, skip, limit) => {
  const all = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
  expect(all).toHaveLength(24);
  expect(idsOf(await activations.list('pager', { limit, skip }))).toEqual(all.slice(skip, skip + limit));
});

test('paging by name and by time range walks the same slices', async () => {
  const odd = idsOf(await activations.list('pager', { name: 'odd', limit: 200, skip: 0 }));
  expect(odd).toHaveLength(12);
  expect(idsOf(await activations.list('pager', { name: 'odd', limit: 3, skip: 4 }))).toEqual(odd.slice(4, 7));
  const all = await activations.list('pager', { limit: 200, skip: 0 });
  const since = all[15].start;
  const recent = idsOf(all.filter((r) => r.start >= since));
  expect(idsOf(await activations.list('pager', { since, limit: 4, skip: 2 }))).toEqual(recent.slice(2, 6));
});

describe('paging through with growing skips', () => {
  /** A repository over its own client, counting the items each listing made the store read. */
  function countingRepository(cursors?: SkipCursors) {
    const dynamo = Object.create(endpoint.clients.dynamo) as typeof endpoint.clients.dynamo;
    const counted = { scanned: 0 };
    const send = endpoint.clients.dynamo.send.bind(endpoint.clients.dynamo) as (command: unknown) => Promise<{ ScannedCount?: number }>;
    (dynamo as unknown as { send: unknown }).send = async (command: unknown) => {
      const output = await send(command);
      counted.scanned += output.ScannedCount ?? 0;
      return output;
    };
    return { repository: new ActivationsRepository(dynamo, configFromEnv({}).tables.activations, 1, cursors), counted };
  }

  async function pageThrough(repository: ActivationsRepository, limit: number, name?: string): Promise<string[]> {
    const listed: string[] = [];
    for (let skip = 0; ; skip += limit) {
      const page = idsOf(await repository.list('pager', { name, limit, skip }));
      listed.push(...page);
      if (page.length < limit) return listed;
    }
  }

  test('each page is read from where the last one ended: the same pages, without walking the skipped records again', async () => {
    const all = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
    const walking = countingRepository();
    const resuming = countingRepository(new SkipCursors());
    expect(await pageThrough(walking.repository, 3)).toEqual(all);
    expect(await pageThrough(resuming.repository, 3)).toEqual(all);
    // Walking reads every skipped record again for each page (about n²/2 in all); resuming about n.
    expect(resuming.counted.scanned).toBeLessThan(walking.counted.scanned / 2);
    expect(await pageThrough(resuming.repository, 4, 'odd')).toEqual(idsOf(await activations.list('pager', { name: 'odd', limit: 200, skip: 0 })));
  });

  test('records that arrive between two pages move the next one as an offset would', async () => {
    const { repository } = countingRepository(new SkipCursors());
    await repository.list('pager', { limit: 4, skip: 0 });
    await repository.list('pager', { limit: 4, skip: 4 });
    for (let i = 0; i < 3; i++) {
      const id = newActivationId();
      await activations.complete(recordOf(id, 'even', Date.now()), 'even');
      await new Promise((r) => setTimeout(r, 2));
    }
    const all = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
    expect(idsOf(await repository.list('pager', { limit: 4, skip: 8 }))).toEqual(all.slice(8, 12));
    // And so does the page after that, from the cursor this one left.
    expect(idsOf(await repository.list('pager', { limit: 4, skip: 12 }))).toEqual(all.slice(12, 16));
  });

  test('more records arrived than the skip itself: the skip is walked instead, and the page is still the slice', async () => {
    const { repository } = countingRepository(new SkipCursors());
    await repository.list('pager', { limit: 2, skip: 0 });
    for (let i = 0; i < 4; i++) {
      await activations.complete(recordOf(newActivationId(), 'odd', Date.now()), 'odd');
      await new Promise((r) => setTimeout(r, 2));
    }
    const all = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
    expect(idsOf(await repository.list('pager', { limit: 2, skip: 2 }))).toEqual(all.slice(2, 4));
  });

  test('a record that finished late inside the skipped range shifts the next page until the chain is a minute old, then it is walked afresh', async () => {
    const { repository } = countingRepository(new SkipCursors());
    const before = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
    await repository.list('pager', { limit: 4, skip: 0 });
    await repository.list('pager', { limit: 4, skip: 4 });
    // Accepted long ago (its id is older than the newest record then), recorded only now.
    const lateId = newActivationId(Number.parseInt(before[2].slice(0, 12), 16) - 1);
    await activations.complete(recordOf(lateId, 'even', Date.now()), 'even');
    const after = idsOf(await activations.list('pager', { limit: 200, skip: 0 }));
    expect(after.indexOf(lateId)).toBe(3);
    expect(idsOf(await repository.list('pager', { limit: 4, skip: 8 }))).toEqual(before.slice(8, 12));
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(idsOf(await repository.list('pager', { limit: 4, skip: 8 }))).toEqual(after.slice(8, 12));
    } finally {
      clock.mockRestore();
    }
  });
});
