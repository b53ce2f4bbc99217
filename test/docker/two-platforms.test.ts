import { spawnSync } from 'node:child_process';
import { dockerTestsEnabled } from '../helpers/docker';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// Two platforms (two data dirs) on one Docker engine, both running activations: each invoker has
// an id of its own and labels its containers with its platform, so one restarting (and removing
// what it left) never touches the other's containers.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;

function containersLabelled(label: string): string[] {
  return spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
}

describeDocker('two platforms on one Docker engine', () => {
  let first: TestPlatform;
  let second: TestPlatform;

  beforeAll(async () => {
    // Neither names an invoker id: each gets its data dir's own.
    const env = { SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_STEM_CELLS: '', SKYWHISK_INVOKER_ID: '' };
    first = await startTestPlatform(env);
    second = await startTestPlatform(env);
  }, 600_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  test('each runs its own activations while the other restarts its invoker', () =>
    withInvokerLog(first, async () => {
      expect(first.platform.invokerEnv.SKYWHISK_INVOKER_ID).not.toBe(second.platform.invokerEnv.SKYWHISK_INVOKER_ID);
      const slow = 'async function main({ ms }) { await new Promise((r) => setTimeout(r, ms)); return { slept: ms }; }';
      await first.wsk().actions.create({ name: 'slow', action: slow });
      await second.wsk().actions.create({ name: 'slow', action: slow });
      expect(await second.wsk().actions.invoke({ name: 'slow', params: { ms: 1 }, blocking: true, result: true })).toEqual({ slept: 1 });

      // The first platform's activation runs in its container while the second restarts its
      // invoker, whose start removes the containers it left.
      const running = first.wsk().actions.invoke({ name: 'slow', params: { ms: 6000 }, blocking: true, result: true });
      for (let i = 0; i < 100 && containersLabelled(`skywhisk.platform=${first.platform.platformId}`).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      const firstContainers = containersLabelled(`skywhisk.platform=${first.platform.platformId}`);
      expect(firstContainers.length).toBeGreaterThan(0);
      expect(containersLabelled(`skywhisk.platform=${second.platform.platformId}`).length).toBeGreaterThan(0);
      second.platform.processes.invoker.child.kill('SIGKILL');
      await second.platform.processes.invoker.exited;
      await second.platform.supervisor.replacement('invoker');

      expect(await running).toEqual({ slept: 6000 });
      expect(containersLabelled(`skywhisk.platform=${first.platform.platformId}`)).toEqual(expect.arrayContaining(firstContainers));
      // Both keep serving: the first warm in the same container, the second from a fresh one.
      expect(await first.wsk().actions.invoke({ name: 'slow', params: { ms: 1 }, blocking: true, result: true })).toEqual({ slept: 1 });
      expect(await second.wsk().actions.invoke({ name: 'slow', params: { ms: 1 }, blocking: true, result: true })).toEqual({ slept: 1 });
    }), 180_000);
});
