import { startEmbeddedEndpoint } from '../test/helpers/endpoint';
import { configFromEnv } from '../lib/config';
import { newActivationId } from '../lib/model/activation-id';
import type { ActivationRecord } from '../lib/model/activation';
import { ActivationsRepository } from '../lib/store/activations';
import { SkipCursors } from '../lib/store/skip-cursors';

/**
 * Paging an activation history with `limit` and `skip` the way `wsk activation list --skip` does,
 * on the embedded endpoint: the time of the first and the last page and of the whole walk.
 *   node --import tsx bench/listing.ts [--records 20000] [--page 200]
 */
function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

async function main(): Promise<void> {
  const RECORDS = option('records', 20_000);
  const PAGE = option('page', 200);
  const endpoint = await startEmbeddedEndpoint('LISTBENCH');
  const activations = new ActivationsRepository(endpoint.clients.dynamo, configFromEnv({}).tables.activations, 1);
  try {
    const started = performance.now();
    for (let i = 0; i < RECORDS; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, RECORDS - i) }, () => {
          const activationId = newActivationId();
          const now = Date.now();
          const record: ActivationRecord = {
            activationId, namespace: 'guest', name: 'noop', version: '0.0.1', subject: 'guest', publish: false,
            start: now, end: now + 1, duration: 1, response: { status: 'success', statusCode: 0, success: true, result: { n: i } }, logs: [], annotations: [],
          } as ActivationRecord;
          return activations.complete(record, 'noop');
        }),
      );
    }
    console.log(`${RECORDS} records written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // As the controller pages (it keeps where each page ended), and walking every skip afresh.
    for (const [how, repository] of [
      ['resuming from the last page', new ActivationsRepository(endpoint.clients.dynamo, configFromEnv({}).tables.activations, 1, new SkipCursors())],
      ['walking each skip', activations],
    ] as const) {
      const pageTimes: number[] = [];
      let seen = 0;
      const walk = performance.now();
      for (let skip = 0; ; skip += PAGE) {
        const t = performance.now();
        const page = await repository.list('guest', { limit: PAGE, skip });
        pageTimes.push(performance.now() - t);
        seen += page.length;
        if (page.length < PAGE) break;
      }
      console.log(
        `${how}: paged ${seen} records, ${PAGE} a page, in ${((performance.now() - walk) / 1000).toFixed(1)} s: first page ${pageTimes[0].toFixed(0)} ms, last ${pageTimes[pageTimes.length - 1].toFixed(0)} ms`,
      );
    }
  } finally {
    await endpoint.stop();
  }
}

void main();
