import { configFromEnv } from '../../lib/config';
import type { ActivationRecord } from '../../lib/model/activation';
import { newActivationId } from '../../lib/model/activation-id';
import { ActivationsRepository } from '../../lib/store/activations';
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
