import { join } from 'node:path';
import { bubblewrapWorks } from '../../lib/invoker/process-factory';
import { clientForNewNamespace, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SNOOP_ACTION } from './hostile-code';

// Attack: in process mode (Fargate's), one tenant's action reads what it can of every other
// process on the host, /proc/<pid>/environ and /proc/<pid>/mem, looking for another tenant's API
// key (a warm runtime holds its tenant's key in memory), and the platform's data directory (tables,
// logs, the operator key). Before issue 12 every runtime ran as uid 65534 in the host's pid
// namespace without bubblewrap, and both reads succeeded. Now each container has a user of its
// own (root) and/or its own pid namespace (bubblewrap), and the data directory is closed.

const MODES = [
  ...(process.getuid?.() === 0 ? [{ mode: 'no sandbox, a user per container', sandbox: 'none' }] : []),
  ...(bubblewrapWorks() ? [{ mode: 'bubblewrap', sandbox: 'bwrap' }] : []),
];

type Snoop = { others: number; environ: string[]; memory: string[]; found: boolean; files: Record<string, string> };

describe.each(MODES.map((m) => [m.mode, m] as const))('process actions (%s)', (_mode, { sandbox }) => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_SANDBOX: sandbox });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('an action reads neither another tenant’s runtime (environment, memory) nor the platform’s data', () =>
    withInvokerLog(env, async () => {
      const victim = await clientForNewNamespace(env, 'victim-ns');
      const attacker = await clientForNewNamespace(env, 'attacker-ns');
      // The victim's warm runtime holds the victim's key (its __OW_API_KEY) in memory.
      await victim.wsk.actions.create({
        name: 'holder',
        action: 'function main() { return { ok: Boolean(process.env.__OW_API_KEY) }; }',
        annotations: { 'provide-api-key': true },
      } as never);
      expect(await victim.wsk.actions.invoke({ name: 'holder', blocking: true, result: true })).toEqual({ ok: true });

      await attacker.wsk.actions.create({ name: 'snoop', action: SNOOP_ACTION, limits: { timeout: 120_000, memory: 512 } } as never);
      const dataPaths = [env.dataDir, join(env.dataDir, 'admin-auth'), join(env.dataDir, 'logs', 'invoker.log'), join(env.dataDir, 'endpoint')];
      const victimKey = victim.auth.split(':')[1];
      const snooped = (await attacker.wsk.actions.invoke({
        name: 'snoop',
        blocking: true,
        result: true,
        params: { paths: dataPaths, needle: victimKey },
      })) as Snoop;

      expect(snooped.found).toBe(false);
      expect(snooped.environ).toEqual([]);
      expect(snooped.memory).toEqual([]);
      // Closed to it (no sandbox), or not even there (bubblewrap).
      for (const path of dataPaths) expect(['EACCES', 'ENOENT']).toContain(snooped.files[path]);
      // With a pid namespace (bubblewrap's, or unshare's as root) it does not even see them.
      const { factory } = await env.platform.invokerStatus();
      if (/bubblewrap|pid namespace/.test(factory)) expect(snooped.others).toBeLessThanOrEqual(1);
    }),
  );
});
