import { containersOf, dockerTestsEnabled } from '../helpers/docker';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// Action containers on real Docker, from the locally built runtime images.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const INVOKER_ID = `docker-test-${process.pid}`;

type Record_ = {
  activationId: string;
  logs: string[];
  response: { status: string; result: Record<string, unknown> };
  annotations: Array<{ key: string; value: unknown }>;
};

const annotation = (record: Record_, key: string) => record.annotations.find((a) => a.key === key)?.value;

async function failure(invoke: Promise<unknown>): Promise<Record_> {
  try {
    await invoke;
  } catch (error) {
    return (error as { error: Record_ }).error;
  }
  throw new Error('the invoke was expected to fail');
}

describeDocker('docker container factory', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    // A short visibility timeout: a message handed to the long poll of a SIGKILLed invoker comes back soon.
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_INVOKER_ID: INVOKER_ID, SKYWHISK_QUEUE_VISIBILITY_S: '5' });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('a nodejs action runs cold in a container, then warm in the same one', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'where',
        action: `let calls = 0;
  function main() { calls += 1; console.log('call', calls); return { calls, uid: process.getuid(), hostname: require('os').hostname() }; }`,
      });
      const cold = (await wsk.actions.invoke({ name: 'where', blocking: true })) as Record_;
      const warm = (await wsk.actions.invoke({ name: 'where', blocking: true })) as Record_;
      expect(annotation(cold, 'initTime')).toEqual(expect.any(Number));
      expect(annotation(warm, 'initTime')).toBeUndefined();
      expect(warm.response.result).toMatchObject({ calls: 2, uid: 1000 });
      expect(cold.logs).toEqual([expect.stringMatching(/stdout: call 1$/)]);
      expect(containersOf(INVOKER_ID).length).toBeGreaterThanOrEqual(1);
    }),
  );

  test('a python action runs in the python runtime image', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'py',
        kind: 'python:default',
        action: ['import sys', 'def main(args):', '    print("hello from python")', '    return {"version": "%d.%d" % sys.version_info[:2], "doubled": args.get("n", 0) * 2}'].join('\n'),
      } as never);
      const record = (await wsk.actions.invoke({ name: 'py', blocking: true, params: { n: 21 } })) as Record_;
      expect(record.response.result).toEqual({ version: '3.11', doubled: 42 });
      expect(annotation(record, 'kind')).toBe('python:3.11');
      expect(record.logs).toEqual([expect.stringMatching(/stdout: hello from python$/)]);
    }),
  );

  test('a timeout kills the container and records a developer error', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'hang', action: 'function main() { return new Promise(() => {}); }', limits: { timeout: 1000 } } as never);
      const pending = failure(wsk.actions.invoke({ name: 'hang', blocking: true }));
      // While it hangs, find the container that runs it.
      let running: string | undefined;
      for (let i = 0; i < 50 && !running; i++) {
        const status = (await (await fetch(env.platform.invokerStatusUrl())).json()) as { pool: { containers: Array<{ id?: string; action?: string }> } };
        running = status.pool.containers.find((c) => c.action === 'guest/hang')?.id;
        if (!running) await new Promise((r) => setTimeout(r, 50));
      }
      expect(running).toEqual(expect.any(String));
      const record = await pending;
      expect(record.response).toMatchObject({ status: 'action developer error', result: { error: 'The action exceeded its time limits of 1000 milliseconds.' } });
      // Removal runs after the record is written; it happens within moments.
      let stillThere = true;
      for (let i = 0; i < 100 && stillThere; i++) {
        stillThere = containersOf(INVOKER_ID).some((id) => running!.startsWith(id));
        if (stillThere) await new Promise((r) => setTimeout(r, 50));
      }
      expect(stillThere).toBe(false);
    }),
  );

  test('an action over its memory limit is stopped by Docker and recorded as out of memory', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'hog',
        action: `function main() {
          const hoard = [];
          for (let i = 0; i < 64; i++) hoard.push(Buffer.alloc(16 * 1024 * 1024, i));
          return { held: hoard.length };
        }`,
        limits: { memory: 128 },
      } as never);
      const record = await failure(wsk.actions.invoke({ name: 'hog', blocking: true }));
      expect(record.response).toMatchObject({ status: 'action developer error', result: { error: 'The action exhausted its memory and was aborted.' } });
    }),
  );

  test('containers left by a SIGKILLed invoker are removed when it starts again', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'leftover', action: 'function main() { return {}; }' });
      await wsk.actions.invoke({ name: 'leftover', blocking: true });
      env.platform.processes.invoker.child.kill('SIGKILL');
      await env.platform.processes.invoker.exited;
      const orphans = containersOf(INVOKER_ID);
      expect(orphans.length).toBeGreaterThanOrEqual(1);
      await env.platform.restart('invoker');
      // The new instance has its own (new) stem cells; none of the old containers is left.
      expect(containersOf(INVOKER_ID).filter((id) => orphans.includes(id))).toEqual([]);
      expect(await wsk.actions.invoke({ name: 'leftover', blocking: true, result: true })).toEqual({});
    }),
  );

  test('stopping the platform removes every container of its invoker', () =>
    withInvokerLog(env, async () => {
      await env.wsk().actions.invoke({ name: 'where', blocking: true });
      expect(containersOf(INVOKER_ID).length).toBeGreaterThanOrEqual(1);
      await env.platform.stop();
      expect(containersOf(INVOKER_ID)).toEqual([]);
      await env.restart();
    }),
  );
});
