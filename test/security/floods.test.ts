import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CgroupsV1 } from '../../lib/invoker/cgroups';
import { bubblewrapWorks } from '../../lib/invoker/process-factory';
import { MAX_RUNTIME_RESPONSE_BYTES } from '../../lib/invoker/runtime-client';
import { dockerTestsEnabled } from '../helpers/docker';
import { clientForNewNamespace, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { containersFor } from '../helpers/pool';
import { CONNECTION_FLOOD_ACTION, DISK_FLOOD_ACTION, FORK_BOMB_ACTION, HUGE_RESPONSE_ACTION, MEMORY_FLOOD_ACTION, STDOUT_FLOOD_ACTION } from './hostile-code';

// Attack: an action tries to take the host's limits from every other tenant: processes, memory
// outside the V8 heap, scratch disk, stdout, and an endless answer on its own /run connection
// (which used to end the invoker, and with it every tenant's activations). Each ends inside the
// action's own container; the invoker goes on, and another tenant's action runs afterwards.

const root = process.getuid?.() === 0;
const MODES = [
  ...(root ? [{ mode: 'process, no sandbox', env: { SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_SANDBOX: 'none' }, memoryLimit: CgroupsV1.available() }] : []),
  ...(bubblewrapWorks() ? [{ mode: 'process, bubblewrap', env: { SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_SANDBOX: 'bwrap' }, memoryLimit: root && CgroupsV1.available() }] : []),
  ...(dockerTestsEnabled() ? [{ mode: 'docker', env: { SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_INVOKER_ID: `floods-${process.pid}` }, memoryLimit: true }] : []),
];

type Wsk = Awaited<ReturnType<typeof clientForNewNamespace>>['wsk'];
type Record_ = { activationId: string; logs: string[]; response: { status: string; result: Record<string, unknown> } };

describe.each(MODES.map((m) => [m.mode, m] as const))('%s', (mode, { env: settings, memoryLimit }) => {
  let env: TestPlatform;
  let attacker: Wsk;
  let bystander: Wsk;

  beforeAll(async () => {
    env = await startTestPlatform(settings);
    attacker = (await clientForNewNamespace(env, 'attacker-ns')).wsk;
    bystander = (await clientForNewNamespace(env, 'bystander-ns')).wsk;
    await bystander.actions.create({ name: 'hello', action: 'function main() { return { hello: true }; }' });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  /** The invoker process is the same one, and another tenant's action still runs. */
  async function othersUnharmed(invokerPid: number | undefined): Promise<void> {
    expect(env.platform.processes.invoker.child.pid).toBe(invokerPid);
    expect(await bystander.actions.invoke({ name: 'hello', blocking: true, result: true })).toEqual({ hello: true });
  }

  async function run(name: string, action: string, params: object, limits: object = {}): Promise<Record_> {
    await attacker.actions.create({ name, action, limits: { timeout: 120_000, ...limits } } as never);
    return (await attacker.actions.invoke({ name, blocking: true, params }).catch((error: { error?: Record_ }) => {
      if (error.error?.activationId) return error.error;
      throw error;
    })) as Record_;
  }

  test('a fork bomb stops below the process limit', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      const record = await run('forks', FORK_BOMB_ACTION, { count: 1500 }, { memory: 512 });
      const { started, errors } = record.response.result as { started: number; errors: Record<string, number> };
      expect(started).toBeLessThan(1024);
      expect(errors.EAGAIN).toBe(1500 - started);
      await othersUnharmed(pid);
    }),
  );

  (memoryLimit ? test : test.skip)('memory outside the V8 heap is capped at the action’s limit', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      const record = await run('hog', MEMORY_FLOOD_ACTION, { mb: 1024 }, { memory: 256 });
      expect(record.response).toMatchObject({ status: 'action developer error', result: { error: 'The action exhausted its memory and was aborted.' } });
      await othersUnharmed(pid);
    }),
  );

  test('the scratch directory holds 64 MB, not the host’s disk or memory', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      const record = await run('filler', DISK_FLOOD_ACTION, { mb: 400 }, { memory: 512 });
      const { written, error } = record.response.result as { written: number; error: string };
      expect(written).toBeLessThanOrEqual(64);
      expect(['ENOSPC', 'EFBIG']).toContain(error);
      await othersUnharmed(pid);
    }),
  );

  test('stdout past the log limit is dropped, and nothing is kept on the engine’s disk', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      await attacker.actions.create({ name: 'printer', action: STDOUT_FLOOD_ACTION, limits: { timeout: 120_000, logs: 1 } } as never);
      const record = (await attacker.actions.invoke({ name: 'printer', blocking: true, params: { mb: 200 } })) as Record_;
      expect(record.response.result).toEqual({ printed: 200 });
      expect(record.logs.at(-1)).toBe('Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.');
      if (mode === 'docker') {
        const [id] = await containersFor(env, 'attacker-ns/printer');
        const inspect = spawnSync('docker', ['inspect', '--format', '{{.HostConfig.LogConfig.Type}} {{.LogPath}}', id], { encoding: 'utf8' });
        const [driver, logPath] = inspect.stdout.trim().split(' ');
        expect(driver).toBe('none');
        expect(logPath && existsSync(logPath)).toBeFalsy();
      }
      await othersUnharmed(pid);
    }),
  );

  test('an endless answer on the action’s own /run ends it in a developer error, not the invoker', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      const record = await run('flood', HUGE_RESPONSE_ACTION, { mb: 600 });
      expect(record.response).toMatchObject({
        status: 'action developer error',
        result: { error: `The action produced a response that exceeded the allowed length: more than ${MAX_RUNTIME_RESPONSE_BYTES} bytes.` },
      });
      await othersUnharmed(pid);
    }),
  );

  test('a flood of idle connections to every port an action can reach does not change another tenant’s results', () =>
    withInvokerLog(env, async () => {
      const pid = env.platform.processes.invoker.child.pid;
      // The scan suite shows these two are all an action reaches; runtimes have no port at all.
      const ports = [Number(new URL(env.platform.apiHost).port), Number(new URL(env.platform.endpointUrl).port)];
      await attacker.actions.create({ name: 'connections', action: CONNECTION_FLOOD_ACTION, limits: { timeout: 120_000 } } as never);
      const flood = attacker.actions.invoke({ name: 'connections', blocking: true, result: true, params: { ports, perPort: 480, holdMs: 8000 } });
      // While it holds them, the other tenant's warm action keeps answering, each time correctly.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      for (let i = 0; i < 10; i++) expect(await bystander.actions.invoke({ name: 'hello', blocking: true, result: true })).toEqual({ hello: true });
      const { held } = (await flood) as { held: Record<string, number> };
      // The flood was real: it held hundreds of connections on both ports.
      for (const port of ports) expect(held[String(port)]).toBeGreaterThan(400);
      await othersUnharmed(pid);
    }),
  );
});
