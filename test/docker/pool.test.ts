import { spawnSync } from 'node:child_process';
import { containersOf, dockerTestsEnabled, isPaused } from '../helpers/docker';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { containersFor, eventually, poolOf, prewarmedOf } from '../helpers/pool';

// The container pool's paths on real Docker: stem cells, pausing and resuming, idle removal,
// eviction under the memory budget, and queueing when every container is busy.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;

type Record_ = { activationId: string; start: number; end: number; response: { result: unknown; success?: boolean }; annotations: Array<{ key: string; value: unknown }> };
const initTime = (record: Record_) => record.annotations.find((a) => a.key === 'initTime')?.value;

describeDocker('stem cells, pausing and idle removal', () => {
  const invokerId = `pool-a-${process.pid}`;
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({
      SKYWHISK_CONTAINER_FACTORY: 'docker',
      SKYWHISK_INVOKER_ID: invokerId,
      SKYWHISK_PAUSE_GRACE_MS: '300',
      SKYWHISK_IDLE_CONTAINER_MS: '4000',
    });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('a new nodejs action takes a prewarmed stem cell, which is then replaced', () =>
    withInvokerLog(env, async () => {
      // The default stem cells: two of nodejs (as OpenWhisk ships), one of python.
      await eventually('stem cells', () => poolOf(env), (p) => prewarmedOf(p, 'nodejs:22') === 2 && prewarmedOf(p, 'python:3.11') === 1);
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'stem', action: 'function main() { return { ok: true }; }' });
      const record = (await wsk.actions.invoke({ name: 'stem', blocking: true })) as Record_;
      expect(record.response.result).toEqual({ ok: true });
      // A stem cell is started but not initialised: the action still pays /init, not container creation.
      expect(initTime(record)).toEqual(expect.any(Number));
      const pool = await poolOf(env);
      expect(pool.counters).toMatchObject({ prewarmed: 1, cold: 0 });
      await eventually('stem cells refilled', () => poolOf(env), (p) => prewarmedOf(p, 'nodejs:22') === 2);
    }));

  test('a new python action takes a python stem cell', () =>
    withInvokerLog(env, async () => {
      await eventually('a python stem cell', () => poolOf(env), (p) => prewarmedOf(p, 'python:3.11') === 1);
      const before = (await poolOf(env)).counters;
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'snake', kind: 'python:3.11', action: 'def main(args):\n    return {"ok": True}\n' } as never);
      const record = (await wsk.actions.invoke({ name: 'snake', blocking: true })) as Record_;
      expect(record.response.result).toEqual({ ok: true });
      const after = (await poolOf(env)).counters;
      expect(after.prewarmed - before.prewarmed).toBe(1);
      expect(after.cold).toBe(before.cold);
    }));

  test('a warm container killed behind the pool\'s back is removed, and the next activation gets a new one', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'mortal', action: 'function main() { return { pid: process.pid }; }' });
      await wsk.actions.invoke({ name: 'mortal', blocking: true });
      const [containerId] = await containersFor(env, 'guest/mortal');
      const died = (await poolOf(env)).counters.died;
      spawnSync('docker', ['kill', containerId]);
      await eventually('the dead container removed from the pool', () => poolOf(env), (p) => p.counters.died === died + 1 && !p.containers.some((c) => c.id === containerId));
      const record = (await wsk.actions.invoke({ name: 'mortal', blocking: true })) as Record_;
      expect(record.response.success).toBe(true);
      expect(initTime(record)).toEqual(expect.any(Number));
      expect(await containersFor(env, 'guest/mortal')).not.toContain(containerId);
    }));

  test('an action that exits right after it answers keeps what it printed, and its container is replaced', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'parting', action: 'function main() { console.log("last words"); setTimeout(() => process.exit(0), 0); return { ok: true }; }' });
      for (let i = 0; i < 3; i++) {
        const record = (await wsk.actions.invoke({ name: 'parting', blocking: true })) as Record_ & { logs: string[] };
        expect(record.response.result).toEqual({ ok: true });
        expect(record.logs.some((line) => line.endsWith('stdout: last words'))).toBe(true);
        await eventually('the exited container gone from the pool', () => containersFor(env, 'guest/parting'), (ids) => ids.length === 0);
      }
    }));

  test('an idle container is paused after the grace period and resumed for the next activation', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'sleepy', action: 'let n = 0; function main() { n += 1; return { n }; }' });
      await wsk.actions.invoke({ name: 'sleepy', blocking: true });
      const [containerId] = await containersFor(env, 'guest/sleepy');
      expect(containerId).toEqual(expect.any(String));
      await eventually('paused by Docker', () => isPaused(containerId), (paused) => paused);
      expect((await poolOf(env)).states.paused).toBeGreaterThanOrEqual(1);
      const resumed = (await wsk.actions.invoke({ name: 'sleepy', blocking: true })) as Record_;
      expect(resumed.response.result).toEqual({ n: 2 });
      expect(initTime(resumed)).toBeUndefined();
      expect((await poolOf(env)).counters.resumed).toBeGreaterThanOrEqual(1);
    }));

  test('with limits.concurrency above 1, one container serves several activations at once', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'shared',
        action: 'function main() { console.log("dropped"); return new Promise((r) => setTimeout(() => r({ pid: process.pid }), 1000)); }',
        limits: { concurrency: 4 },
      } as never);
      await wsk.actions.invoke({ name: 'shared', blocking: true });
      const records = (await Promise.all(Array.from({ length: 4 }, () => wsk.actions.invoke({ name: 'shared', blocking: true })))) as Array<
        Record_ & { logs: string[] }
      >;
      expect(new Set(records.map((r) => (r.response.result as { pid: number }).pid)).size).toBe(1);
      expect(Math.max(...records.map((r) => r.start))).toBeLessThan(Math.min(...records.map((r) => r.end)));
      expect(await containersFor(env, 'guest/shared')).toHaveLength(1);
      expect(records.every((r) => r.logs.length === 0)).toBe(true);
    }));

  test('an idle container is removed after the idle timeout', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'fleeting', action: 'function main() { return {}; }' });
      await wsk.actions.invoke({ name: 'fleeting', blocking: true });
      const [containerId] = await containersFor(env, 'guest/fleeting');
      expect(containerId).toEqual(expect.any(String));
      await eventually('idle container removed', () => containersFor(env, 'guest/fleeting'), (ids) => ids.length === 0);
      await eventually('removed from Docker', () => containersOf(invokerId), (ids) => !ids.some((id) => containerId.startsWith(id)));
      expect((await poolOf(env)).counters.idleRemoved).toBeGreaterThanOrEqual(1);
    }));
});

describeDocker('the memory budget', () => {
  const invokerId = `pool-b-${process.pid}`;
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({
      SKYWHISK_CONTAINER_FACTORY: 'docker',
      SKYWHISK_INVOKER_ID: invokerId,
      SKYWHISK_MEMORY_BUDGET_MB: '512',
      SKYWHISK_STEM_CELLS: '',
    });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('when the budget is full, the least recently used idle container of another action is evicted', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      for (const name of ['first', 'second', 'third']) await wsk.actions.create({ name, action: 'function main() { return {}; }' });
      await wsk.actions.invoke({ name: 'first', blocking: true });
      await wsk.actions.invoke({ name: 'second', blocking: true });
      expect((await poolOf(env)).memoryUsedMb).toBe(512);
      const third = (await wsk.actions.invoke({ name: 'third', blocking: true })) as Record_;
      expect(initTime(third)).toEqual(expect.any(Number));
      const pool = await poolOf(env);
      expect(pool.counters.evicted).toBe(1);
      expect(pool.memoryUsedMb).toBe(512);
      expect(await containersFor(env, 'guest/first')).toEqual([]);
      expect(await containersFor(env, 'guest/second')).toHaveLength(1);
    }));

  test('when every container is busy, an activation waits for memory instead of failing', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      const slow = 'function main() { return new Promise((r) => setTimeout(() => r({ slow: true }), 1500)); }';
      await wsk.actions.create({ name: 'slow-a', action: slow });
      await wsk.actions.create({ name: 'slow-b', action: slow });
      await wsk.actions.create({ name: 'quick', action: 'function main() { return { quick: true }; }' });
      const a = await wsk.actions.invoke({ name: 'slow-a' });
      const b = await wsk.actions.invoke({ name: 'slow-b' });
      await eventually('both slow actions running', () => poolOf(env), (p) => p.states.running + p.states.initialising === 2);
      const quick = (await wsk.actions.invoke({ name: 'quick', blocking: true })) as Record_;
      expect(quick.response.result).toEqual({ quick: true });
      const ends = await Promise.all([a, b].map(async ({ activationId }) => ((await wsk.activations.get({ name: activationId })) as Record_).end));
      expect(quick.start).toBeGreaterThanOrEqual(Math.min(...ends));
      expect((await poolOf(env)).counters.queued).toBeGreaterThanOrEqual(1);
    }));
});
