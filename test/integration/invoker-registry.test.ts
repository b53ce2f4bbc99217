import { configFromEnv } from '../../lib/config';
import { InvokerRegistry, type InvokerReport } from '../../lib/store/invoker-registry';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The invoker registry against the embedded DynamoDB endpoint: who counts as gone, and when a
// gone process's claims are taken as all recorded.

let endpoint: EmbeddedEndpoint;
let registry: InvokerRegistry;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('invoker-registry');
  registry = new InvokerRegistry(endpoint.clients.dynamo, configFromEnv({}).tables.coordination, 10_000, 60_000);
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
});

const report = (id: string, instance: string, startedAt: number): InvokerReport => ({ id, instance, startedAt, state: 'up', inFlight: 0, factory: 'test' });

test('a process judged gone that beat again before the sweep marked it is not marked swept', async () => {
  const judgedAt = Date.now() - 70_000;
  await registry.heartbeat(report('back', '1', judgedAt - 1000), judgedAt);
  expect((await registry.goneUnswept()).map((i) => i.id)).toContain('back');
  // Back from its stall, it beats before the sweeper's mark lands.
  await registry.heartbeat(report('back', '1', judgedAt - 1000));
  await registry.markSwept('back/1', judgedAt);
  expect(await registry.unsweptClaimants()).toContain('back/1');
  // Judged by its latest heartbeat, it is marked.
  const [latest] = (await registry.list()).filter((i) => i.id === 'back');
  await registry.markSwept('back/1', latest.heartbeatAt);
  expect(await registry.unsweptClaimants()).not.toContain('back/1');
});

test('a holder is gone once stopped, past its lease, followed by a later process of its id, or never registered', async () => {
  const now = Date.now();
  await registry.heartbeat(report('live', '1', now - 5000), now);
  await registry.heartbeat(report('silent', '1', now - 90_000), now - 61_000);
  await registry.heartbeat({ ...report('stopped', '1', now - 5000), state: 'stopped' }, now);
  await registry.heartbeat(report('restarted', '1', now - 9000), now);
  await registry.heartbeat(report('restarted', '2', now - 1000), now);
  expect(await registry.claimantIsGone('live/1')).toBe(false);
  expect(await registry.claimantIsGone('silent/1')).toBe(true);
  expect(await registry.claimantIsGone('stopped/1')).toBe(true);
  expect(await registry.claimantIsGone('restarted/1')).toBe(true);
  expect(await registry.claimantIsGone('restarted/2')).toBe(false);
  expect(await registry.claimantIsGone('never/1')).toBe(true);
});
