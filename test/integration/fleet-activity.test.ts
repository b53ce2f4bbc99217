import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv } from '../../lib/config';
import { InvokerRegistry } from '../../lib/store/invoker-registry';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// An invoker given a fleet name writes its activity as EMF lines on standard output (on ECS the
// awslogs driver ships them and CloudWatch makes the metrics the idle alarm reads): activations
// started direct and from the queue all count, and a stop writes what the last line had not.

const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-fleet-activity-'));
let env: TestPlatform | undefined;

afterAll(async () => {
  await env?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('five activations, blocking and not, are five started in the fleet’s lines, and the heartbeat says when the last started', async () => {
  env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_STEM_CELLS: '', SKYWHISK_FLEET_METRICS: 'test-fleet' }, dataDir);
  const wsk = env.wsk();
  const before = Date.now();
  await wsk.actions.create({ name: 'counted', action: 'function main() { return { ok: true }; }' });
  for (let i = 0; i < 3; i++) expect((await wsk.actions.invoke({ name: 'counted', blocking: true, result: true })) as unknown).toEqual({ ok: true });
  const ids = [];
  for (let i = 0; i < 2; i++) ids.push((await wsk.actions.invoke({ name: 'counted' })).activationId);
  for (const id of ids) {
    for (let round = 0; round < 100; round++) {
      if (await wsk.activations.get({ name: id }).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Its heartbeat says when it last started one: what the fleet sleeper reads.
  let reported: number | undefined;
  for (let i = 0; i < 50 && !reported; i++) {
    reported = (await new InvokerRegistry(env.clients.dynamo, configFromEnv({}).tables.coordination, 10_000).list())[0]?.lastStartedAt;
    if (!reported) await new Promise((r) => setTimeout(r, 200));
  }
  expect(reported).toBeGreaterThanOrEqual(before);
  await env.stop();
  env = undefined;

  const lines = readFileSync(join(dataDir, 'logs', 'invoker.log'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as { Fleet: string; ActivationsStarted: number; ActivationsInFlight: number });
  expect(lines.length).toBeGreaterThan(0);
  expect(new Set(lines.map((line) => line.Fleet))).toEqual(new Set(['test-fleet']));
  expect(lines.reduce((sum, line) => sum + line.ActivationsStarted, 0)).toBe(5);
  // The last line, written at stop, has nothing in flight.
  expect(lines[lines.length - 1].ActivationsInFlight).toBe(0);
}, 120_000);
