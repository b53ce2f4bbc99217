import { ACTION_UID_RANGE } from '../../lib/invoker/action-users';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { buildFromFolder } from '../../lib/images/build';
import { containersOf, dockerTestsEnabled } from '../helpers/docker';
import { basicAuthHeader } from '../helpers/platform';
import { containersFor, eventually } from '../helpers/pool';
import { zipBase64 } from '../helpers/zip';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// Action containers on real Docker, from the locally built runtime images.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const INVOKER_ID = `docker-test-${process.pid}`;
const BLACKBOX_IMAGE = 'skywhisk/test-blackbox';

type Record_ = {
  activationId: string;
  logs: string[];
  response: { status: string; result: Record<string, unknown> };
  annotations: Array<{ key: string; value: unknown }>;
};

const annotation = (record: Record_, key: string) => record.annotations.find((a) => a.key === key)?.value;

/** A loopback port nothing listens on (just given up by a listener of this process). */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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
    await buildFromFolder(new Docker(), join(__dirname, '../fixtures/blackbox'), BLACKBOX_IMAGE);
  }, 600_000);

  /** PUT an action with a raw exec (the openwhisk client has no blackbox form). */
  async function putBlackbox(name: string, exec: Record<string, unknown>): Promise<void> {
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/${name}`, {
      method: 'PUT',
      headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
      body: JSON.stringify({ exec }),
    });
    expect(response.status).toBe(200);
  }

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
      expect(warm.response.result).toMatchObject({ calls: 2 });
      // A user of its own from the reserved range, not the image's.
      expect((warm.response.result as { uid: number }).uid).toBeGreaterThanOrEqual(ACTION_UID_RANGE.first);
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

  test('a blackbox image with its own server runs, several at once, each on its own port 8080', () =>
    withInvokerLog(env, async () => {
      await putBlackbox('box-a', { kind: 'blackbox', image: BLACKBOX_IMAGE });
      await putBlackbox('box-b', { kind: 'blackbox', image: BLACKBOX_IMAGE });
      const wsk = env.wsk();
      const [a, b] = (await Promise.all([
        wsk.actions.invoke({ name: 'box-a', blocking: true, params: { who: 'a' } }),
        wsk.actions.invoke({ name: 'box-b', blocking: true, params: { who: 'b' } }),
      ])) as Record_[];
      expect(a.response.result).toEqual({ blackbox: true, args: { who: 'a' }, port: 8080 });
      expect(b.response.result).toEqual({ blackbox: true, args: { who: 'b' }, port: 8080 });
      expect(a.logs).toEqual([expect.stringMatching(/stdout: blackbox ran$/)]);
      expect(annotation(a, 'kind')).toBe('blackbox');
    }),
  );

  test('zipped nodejs and python actions are unpacked and run', () =>
    withInvokerLog(env, async () => {
      const nodeZip = await zipBase64({
        'package.json': JSON.stringify({ main: 'lib/entry.js' }),
        'lib/entry.js': "const helper = require('./helper'); exports.main = (p) => ({ zipped: helper.twice(p.n) });",
        'lib/helper.js': 'exports.twice = (n) => n * 2;',
      });
      await putBlackbox('zipped-node', { kind: 'nodejs:20', code: nodeZip, binary: true });
      expect(await env.wsk().actions.invoke({ name: 'zipped-node', blocking: true, result: true, params: { n: 21 } })).toEqual({ zipped: 42 });
      const pythonZip = await zipBase64({
        '__main__.py': 'from helper import twice\ndef main(args):\n    return {"zipped": twice(args["n"])}\n',
        'helper.py': 'def twice(n):\n    return n * 2\n',
      });
      await putBlackbox('zipped-python', { kind: 'python:3.11', code: pythonZip, binary: true });
      expect(await env.wsk().actions.invoke({ name: 'zipped-python', blocking: true, result: true, params: { n: 4 } })).toEqual({ zipped: 8 });
    }),
  );

  test('an action writes and reads files by relative paths, and a zip reads the files it ships', () =>
    withInvokerLog(env, async () => {
      await putBlackbox('relative-writer', {
        kind: 'nodejs:20',
        code: "const fs = require('fs'); function main() { fs.writeFileSync('note.txt', 'kept'); return { cwd: process.cwd(), note: fs.readFileSync('note.txt', 'utf8') }; }",
      });
      expect(await env.wsk().actions.invoke({ name: 'relative-writer', blocking: true, result: true })).toEqual({ cwd: '/tmp', note: 'kept' });
      const zip = await zipBase64({
        'index.js': "const fs = require('fs'); exports.main = () => ({ data: JSON.parse(fs.readFileSync('data/config.json', 'utf8')) });",
        'data/config.json': '{"shipped":true}',
      });
      await putBlackbox('zip-reader', { kind: 'nodejs:20', code: zip, binary: true });
      expect(await env.wsk().actions.invoke({ name: 'zip-reader', blocking: true, result: true })).toEqual({ data: { shipped: true } });
    }),
  );

  test('a blackbox action can bring code for an image that runs it', () =>
    withInvokerLog(env, async () => {
      await putBlackbox('box-code', { kind: 'blackbox', image: 'skywhisk/action-nodejs-v20', code: 'function main(p) { return { via: "blackbox", n: p.n + 1 }; }' });
      expect(await env.wsk().actions.invoke({ name: 'box-code', blocking: true, result: true, params: { n: 1 } })).toEqual({ via: 'blackbox', n: 2 });
    }),
  );

  test('a blackbox image that is not here and cannot be pulled ends in a developer error that names it', () =>
    withInvokerLog(env, async () => {
      // A registry on loopback that refuses connections: the pull fails at once, and goes nowhere else.
      const image = `127.0.0.1:${await closedLoopbackPort()}/skywhisk/no-such-image:1`;
      await putBlackbox('box-missing', { kind: 'blackbox', image });
      const record = await failure(env.wsk().actions.invoke({ name: 'box-missing', blocking: true }));
      expect(record.response).toMatchObject({ status: 'action developer error', success: false, result: { error: `Failed to pull container image '${image}'.` } });
    }),
  );

  test('a new revision never runs in the container of the old one', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'revised', action: 'function main() { return { v: 1, pid: process.pid }; }' });
      const first = (await wsk.actions.invoke({ name: 'revised', blocking: true, result: true })) as { v: number };
      await wsk.actions.update({ name: 'revised', action: 'function main() { return { v: 2, pid: process.pid }; }' });
      const second = (await wsk.actions.invoke({ name: 'revised', blocking: true })) as Record_;
      expect(first.v).toBe(1);
      expect(second.response.result).toMatchObject({ v: 2 });
      expect(annotation(second, 'initTime')).toEqual(expect.any(Number));
    }),
  );

  test('a failing /init is a developer error and its container is removed', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'broken', action: 'function main( { return {}; }' });
      const record = await failure(wsk.actions.invoke({ name: 'broken', blocking: true }));
      expect(record.response.status).toBe('action developer error');
      expect(JSON.stringify(record.response.result)).toContain('Initialization has failed');
      expect(await containersFor(env, 'guest/broken')).toEqual([]);
    }),
  );

  test('output written straight to stdout and stderr, by the action and by a process it starts, is in its logs', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'raw-output',
        action: `const { writeSync } = require('fs');
  const { execSync } = require('child_process');
  function main({ n }) {
    writeSync(1, 'to fd 1, call ' + n + '\\n');
    writeSync(2, 'to fd 2, call ' + n + '\\n');
    execSync('echo child says ' + n, { stdio: 'inherit' });
    return {};
  }`,
      });
      for (const n of [1, 2]) {
        const record = (await wsk.actions.invoke({ name: 'raw-output', blocking: true, params: { n } })) as Record_;
        // Each call has its own lines, and only its own (the same warm container serves both).
        expect(record.logs).toHaveLength(3);
        expect(record.logs).toEqual(
          expect.arrayContaining([
            expect.stringMatching(new RegExp(`stdout: to fd 1, call ${n}$`)),
            expect.stringMatching(new RegExp(`stderr: to fd 2, call ${n}$`)),
            expect.stringMatching(new RegExp(`stdout: child says ${n}$`)),
          ]),
        );
      }
    }),
  );

  test('an action cannot read its own output pipes (and so cannot take its sentinels from the invoker)', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'pipe-reader',
        action: `const fs = require('fs');
  function main() {
    return Object.fromEntries(['stdout', 'stderr'].map((name) => {
      try { fs.closeSync(fs.openSync('/run/skywhisk/' + name, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)); return [name, 'opened']; }
      catch (error) { return [name, error.code]; }
    }));
  }`,
      });
      const record = (await wsk.actions.invoke({ name: 'pipe-reader', blocking: true })) as Record_;
      expect(record.response.result).toEqual({ stdout: 'EACCES', stderr: 'EACCES' });
    }),
  );

  test('the last lines of an action whose process exits are in its record', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'exits', action: "function main() { console.log('about to exit'); console.error('bye'); process.exit(3); }" });
      const record = await failure(wsk.actions.invoke({ name: 'exits', blocking: true }));
      expect(record.response.status).toBe('action developer error');
      expect(record.logs).toEqual(expect.arrayContaining([expect.stringMatching(/stdout: about to exit$/), expect.stringMatching(/stderr: bye$/)]));
    }),
  );

  test('logs are capped at limits.logs with OpenWhisk’s truncation message', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({
        name: 'chatty',
        action: "function main() { for (let i = 0; i < 3000; i++) console.log('x'.repeat(500)); return {}; }",
        limits: { logs: 1 },
      } as never);
      const record = (await wsk.actions.invoke({ name: 'chatty', blocking: true })) as Record_;
      expect(record.logs.length).toBeLessThan(3000);
      expect(record.logs[record.logs.length - 1]).toBe('Logs were truncated because the total bytes size exceeds the limit of 1048576 bytes.');
    }),
  );

  test('a timeout kills the container and records a developer error', () =>
    withInvokerLog(env, async () => {
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'hang', action: 'function main() { return new Promise(() => {}); }', limits: { timeout: 1000 } } as never);
      const pending = failure(wsk.actions.invoke({ name: 'hang', blocking: true }));
      // While it hangs, find the container that runs it.
      const [running] = await eventually('a container running hang', () => containersFor(env, 'guest/hang'), (ids) => ids.length === 1 && Boolean(ids[0]), 2500);
      const record = await pending;
      expect(record.response).toMatchObject({ status: 'action developer error', result: { error: 'The action exceeded its time limits of 1000 milliseconds.' } });
      // Removal runs after the record is written; it happens within moments.
      await eventually('the container removed from Docker', () => containersOf(INVOKER_ID), (ids) => !ids.some((id) => running.startsWith(id)), 5000);
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
