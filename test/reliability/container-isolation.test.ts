import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContainer } from '../../lib/invoker/container';
import { bubblewrapWorks, ProcessContainerFactory } from '../../lib/invoker/process-factory';
import { dockerTestsEnabled } from '../helpers/docker';
import { clientForNewNamespace, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { eventually, poolOf } from '../helpers/pool';
import { SideChannel } from '../helpers/side-channel';
import { FORK_BOMB_ACTION } from '../security/hostile-code';

// Action containers serve the runtime protocol (POST /init, POST /run) on a unix socket in a
// directory of their own: mounted at /run/skywhisk in a Docker container, the work directory of a
// process (closed to other users, or alone in a bubblewrap sandbox). No runtime has a TCP port that
// other actions could reach. Each runtime also answers only its invoker, which holds a
// per-container token that the action can no longer read; and inside a container the action has
// no capabilities, no privilege gain, a read-only system, a bounded number of processes and none
// of the platform's settings.

const TOKEN_ENV = '__OW_RUNTIME_TOKEN';
const TOKEN_FILE_ENV = '__OW_RUNTIME_TOKEN_FILE';
const DOCKER_SOCKET = '/run/skywhisk/runtime.sock';
const FORBIDDEN = { error: 'Forbidden: this runtime answers only its invoker.' };

type Record_ = { activationId: string; response: { status: string; result: Record<string, unknown> } };
type Probe = { status?: number; body?: unknown; error?: string };
type Wsk = Awaited<ReturnType<typeof clientForNewNamespace>>['wsk'];

/** Action code that POSTs a runtime request to another container (a port or a unix socket), with no token and with a guessed one. */
const ATTACKER_CODE = `const http = require('http');
function post(target, path, body, headers) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request({ ...target, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => { let parsed; try { parsed = JSON.parse(text); } catch { parsed = text; } resolve({ status: res.statusCode, body: parsed }); });
    });
    req.on('error', (error) => resolve({ error: error.code || String(error) }));
    req.end(data);
  });
}
async function main({ port, socketPath, path, body }) {
  const target = socketPath ? { socketPath } : { host: '127.0.0.1', port };
  return {
    bare: await post(target, path, body, {}),
    guessed: await post(target, path, body, { authorization: 'Bearer ' + 'A'.repeat(43) }),
  };
}`;

/** A runtime request with no (or a wrong) token, from the test process. */
function postUnix(socketPath: string, path: string, body: object, headers: Record<string, string> = {}): Promise<Probe> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request(
      { socketPath, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? String(error) }));
    req.end(data);
  });
}

// --- Docker ------------------------------------------------------------------------------------

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const INVOKER_ID = `isolation-test-${process.pid}`;

/** A container's environment as Docker started it (what the host sees, not the action). */
function containerEnv(id: string): Record<string, string> {
  const out = spawnSync('docker', ['inspect', '--format', '{{json .Config.Env}}', id], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`docker inspect ${id}: ${out.stderr}`);
  return Object.fromEntries((JSON.parse(out.stdout) as string[]).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describeDocker('docker action containers', () => {
  let env: TestPlatform;
  const side = new SideChannel();
  let victim: Wsk;
  let attacker: Wsk;

  beforeAll(async () => {
    await side.start();
    // No pausing: a frozen victim would not answer at all, which proves nothing about the token.
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_INVOKER_ID: INVOKER_ID, SKYWHISK_PAUSE_GRACE_MS: '600000' });
    victim = (await clientForNewNamespace(env, 'victim-ns')).wsk;
    attacker = (await clientForNewNamespace(env, 'attacker-ns')).wsk;
    await attacker.actions.create({ name: 'attack', action: ATTACKER_CODE });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
    await side.stop();
  });

  /** The Docker id of the container serving `namespace/name`. */
  async function containerOf(action: string): Promise<string> {
    const [one] = (await poolOf(env)).containers.filter((c) => c.action === action && c.id);
    if (!one?.id) throw new Error(`no container serves ${action}`);
    return one.id;
  }

  async function attack(params: { socketPath: string; path: '/init' | '/run'; body: object }): Promise<{ bare: Probe; guessed: Probe }> {
    return (await attacker.actions.invoke({ name: 'attack', blocking: true, result: true, params })) as { bare: Probe; guessed: Probe };
  }

  const victims = [
    { kind: 'nodejs:20', code: () => side.actionCode() },
    {
      kind: 'python:3.11',
      code: () =>
        [
          'import os, urllib.request',
          'def main(args):',
          `    urllib.request.urlopen("http://127.0.0.1:${side.port}/hit?id=" + os.environ["__OW_ACTIVATION_ID"]).read()`,
          '    return {"ran": True}',
        ].join('\n'),
    },
  ];

  test.each(victims.map((v) => [v.kind, v] as const))('a %s container refuses /run from another namespace’s action, and its code does not run', (kind, v) =>
    withInvokerLog(env, async () => {
      const name = `victim-${kind.split(':')[0]}`;
      await victim.actions.create({ name, action: v.code(), kind } as never);
      // The side channel sees the victim's code run for its own activation...
      const own = (await victim.actions.invoke({ name, blocking: true })) as Record_;
      expect(own.response.result).toEqual({ ran: true });
      expect(side.hits.get(own.activationId)).toBe(1);
      const id = await containerOf(`victim-ns/${name}`);
      // It has no port: its runtime listens on a socket in its own mount namespace.
      expect(containerEnv(id).__OW_LISTEN).toBe(DOCKER_SOCKET);

      // ...and not for a /run another namespace's action sends to that path, which in the
      // attacker's container is the attacker's own runtime, which refuses it too.
      const stolen = `stolen-${kind.replace(/\W/g, '')}`;
      const result = await attack({ socketPath: DOCKER_SOCKET, path: '/run', body: { value: {}, activation_id: stolen, namespace: 'victim-ns' } });
      expect(result).toEqual({ bare: { status: 403, body: FORBIDDEN }, guessed: { status: 403, body: FORBIDDEN } });
      expect(side.hits.get(stolen)).toBeUndefined();

      // The victim's warm container still serves its own activations.
      const again = (await victim.actions.invoke({ name, blocking: true })) as Record_;
      expect(again.response.result).toEqual({ ran: true });
      expect(side.hits.get(again.activationId)).toBe(1);
      expect(await containerOf(`victim-ns/${name}`)).toBe(id);
    }),
  );

  test('a stem cell refuses /init from an action, so no planted code runs for the next activation', () =>
    withInvokerLog(env, async () => {
      const [cell] = await eventually(
        'a prewarmed nodejs stem cell',
        async () => (await poolOf(env)).containers.filter((c) => c.state === 'prewarmed' && c.kind === 'nodejs:22' && c.id),
        (cells) => cells.length > 0,
      );
      expect(containerEnv(cell.id!).__OW_LISTEN).toBe(DOCKER_SOCKET);
      const planted = `async function main() { await fetch('http://127.0.0.1:${side.port}/hit?id=planted'); return { planted: true }; }`;
      const result = await attack({ socketPath: DOCKER_SOCKET, path: '/init', body: { value: { code: planted, main: 'main' } } });
      expect(result).toEqual({ bare: { status: 403, body: FORBIDDEN }, guessed: { status: 403, body: FORBIDDEN } });

      // Stem cells are taken by the next cold start of their kind and size: the victim's own code runs.
      await victim.actions.create({ name: 'fresh', action: 'function main() { return { mine: true }; }' });
      const record = (await victim.actions.invoke({ name: 'fresh', blocking: true })) as Record_;
      expect(record.response.result).toEqual({ mine: true });
      expect(side.hits.get('planted')).toBeUndefined();
    }),
  );

  test('a nodejs action runs without capabilities, without privilege gain, unprivileged, on a read-only system', () =>
    withInvokerLog(env, async () => {
      await attacker.actions.create({
        name: 'probe',
        action: `function main() {
          const fs = require('fs');
          const status = fs.readFileSync('/proc/self/status', 'utf8');
          const field = (name) => (status.match(new RegExp('^' + name + ':\\\\s*(\\\\S+)', 'm')) || [])[1];
          const write = (file) => { try { fs.writeFileSync(file, 'x'); return fs.readFileSync(file, 'utf8') === 'x' ? 'written' : 'lost'; } catch (error) { return error.code; } };
          return {
            capEff: field('CapEff'), noNewPrivs: field('NoNewPrivs'), uid: process.getuid(), gid: process.getgid(),
            usr: write('/usr/probe'), root: write('/probe'), etc: write('/etc/probe'), tmp: write('/tmp/probe'),
            env: process.env, environ: fs.readFileSync('/proc/self/environ', 'utf8'),
            tokenFile: (() => { try { return fs.readFileSync('/run/skywhisk/token', 'utf8'); } catch (error) { return error.code; } })(),
          };
        }`,
      });
      const result = (await attacker.actions.invoke({ name: 'probe', blocking: true, result: true })) as {
        capEff: string;
        noNewPrivs: string;
        uid: number;
        gid: number;
        usr: string;
        root: string;
        etc: string;
        tmp: string;
        env: Record<string, string>;
        environ: string;
        tokenFile: string;
      };
      expect(result).toMatchObject({ capEff: '0000000000000000', noNewPrivs: '1', usr: 'EROFS', root: 'EROFS', etc: 'EROFS', tmp: 'written' });
      expect(result.uid).not.toBe(0);
      expect(result.gid).not.toBe(0);

      // The environment has the activation's context, but no platform settings; the container was
      // started without the token in its environment, and the token file is gone before action code runs.
      const started = containerEnv(await containerOf('attacker-ns/probe'));
      expect(started[TOKEN_ENV]).toBeUndefined();
      expect(started[TOKEN_FILE_ENV]).toBe('/run/skywhisk/token');
      expect(result.tokenFile).toBe('ENOENT');
      expect(result.environ).not.toContain(TOKEN_ENV + '=');
      expect(Object.keys(result.env)).toEqual(expect.arrayContaining(['__OW_ACTIVATION_ID', '__OW_API_HOST']));
      expect(Object.keys(result.env).filter((k) => /^(AWS_|SKYWHISK_)/.test(k) || k.startsWith(TOKEN_ENV))).toEqual([]);
    }),
  );

  test('a python action sees neither the token nor platform settings, and is not root', () =>
    withInvokerLog(env, async () => {
      await attacker.actions.create({
        name: 'pyprobe',
        kind: 'python:3.11',
        action: [
          'import os',
          'def main(args):',
          '    return {"env": dict(os.environ), "uid": os.getuid(), "token_file": os.path.exists("/run/skywhisk/token"),',
          '            "environ": open("/proc/self/environ").read()}',
        ].join('\n'),
      } as never);
      const result = (await attacker.actions.invoke({ name: 'pyprobe', blocking: true, result: true })) as {
        env: Record<string, string>;
        uid: number;
        token_file: boolean;
        environ: string;
      };
      expect(containerEnv(await containerOf('attacker-ns/pyprobe'))[TOKEN_ENV]).toBeUndefined();
      expect(result.uid).not.toBe(0);
      expect(result.token_file).toBe(false);
      expect(result.environ).not.toContain(TOKEN_ENV + '=');
      expect(Object.keys(result.env)).toEqual(expect.arrayContaining(['__OW_ACTIVATION_ID']));
      expect(Object.keys(result.env).filter((k) => /^(AWS_|SKYWHISK_)/.test(k) || k.startsWith(TOKEN_ENV))).toEqual([]);
    }),
  );

  test('spawning past the process limit fails inside the action, and later activations still run', () =>
    withInvokerLog(env, async () => {
      await attacker.actions.create({
        name: 'spawner',
        // Up to `count` sleeping children at once, each waited for until it started or was refused.
        action: FORK_BOMB_ACTION,
        limits: { memory: 512, timeout: 120_000 },
      } as never);
      const bomb = (await attacker.actions.invoke({ name: 'spawner', blocking: true, result: true, params: { count: 1500 } })) as {
        started: number;
        errors: Record<string, number>;
      };
      expect(bomb.started).toBeLessThan(1024);
      expect(bomb.errors.EAGAIN).toBe(1500 - bomb.started);

      // The same container recovers once its children are gone, and the invoker serves others.
      expect(await attacker.actions.invoke({ name: 'spawner', blocking: true, result: true, params: { count: 3 } })).toEqual({ started: 3, errors: {} });
      const other = (await victim.actions.invoke({ name: 'victim-nodejs', blocking: true })) as Record_;
      expect(other.response.result).toEqual({ ran: true });
    }),
  );
});

// --- Processes (bubblewrap, or plain) ----------------------------------------------------------

const SANDBOXES = [{ mode: 'plain', sandbox: false }, ...(bubblewrapWorks() ? [{ mode: 'bubblewrap', sandbox: true }] : [])];

describe.each(SANDBOXES.map((s) => [s.mode, s] as const))('%s process action containers', (mode, { sandbox }) => {
  const side = new SideChannel();
  let workRoot: string;
  let factory: ProcessContainerFactory;
  const made: ActionContainer[] = [];

  beforeAll(async () => {
    await side.start();
    workRoot = mkdtempSync(join(tmpdir(), 'skywhisk-isolation-'));
    // Traversable like the default (/tmp), so the action user reaches its own work dir.
    chmodSync(workRoot, 0o711);
    factory = new ProcessContainerFactory({ sandbox, workRoot });
  });

  afterAll(async () => {
    await Promise.all(made.map((c) => c.destroy()));
    factory.dispose();
    rmSync(workRoot, { recursive: true, force: true });
    await side.stop();
  });

  async function create(kind: string): Promise<{ container: ActionContainer; socketPath: string }> {
    const container = await factory.create({ kind, memoryMb: 256, env: {}, name: `isolation ${kind}` });
    made.push(container);
    const [root] = readdirSync(workRoot);
    return { container, socketPath: join(workRoot, root, container.id, 'runtime.sock') };
  }

  /** The runtime's socket once it listens (it may still be starting). */
  async function listening(socketPath: string): Promise<void> {
    await eventually(`${socketPath} to exist`, () => existsSync(socketPath), Boolean, 20_000);
  }

  test.each(['nodejs:20', 'python:3.11'])('a %s runtime refuses /init and /run without its token', async (kind) => {
    const { container, socketPath } = await create(kind);
    await listening(socketPath);
    const planted = { value: { code: 'function main() { return { planted: true }; }', main: 'main' } };
    expect(await postUnix(socketPath, '/init', planted)).toEqual({ status: 403, body: FORBIDDEN });
    expect(await postUnix(socketPath, '/init', planted, { authorization: 'Bearer wrong' })).toEqual({ status: 403, body: FORBIDDEN });

    // The refused /init initialised nothing: the invoker's own /init is the first.
    const code = kind.startsWith('python')
      ? `import os, urllib.request\ndef main(args):\n    urllib.request.urlopen("http://127.0.0.1:${side.port}/hit?id=" + os.environ["__OW_ACTIVATION_ID"]).read()\n    return {"ran": True}\n`
      : side.actionCode();
    expect((await container.init({ value: { code, main: 'main' } }, 30_000)).statusCode).toBe(200);
    expect(await postUnix(socketPath, '/run', { value: {}, activation_id: `stolen-${mode}-${kind}` })).toEqual({ status: 403, body: FORBIDDEN });
    expect(side.hits.get(`stolen-${mode}-${kind}`)).toBeUndefined();

    const own = await container.run({ value: {}, activation_id: `own-${mode}-${kind}` }, 30_000);
    expect(own).toMatchObject({ statusCode: 200, body: { ran: true } });
    expect(side.hits.get(`own-${mode}-${kind}`)).toBe(1);
  });

  test.each(['nodejs:20', 'python:3.11'])('a %s stem cell warm-up needs the token, prints nothing and leaves the runtime for its action', async (kind) => {
    const { container, socketPath } = await create(kind);
    await listening(socketPath);
    expect(await postUnix(socketPath, '/warmup', {})).toEqual({ status: 403, body: FORBIDDEN });
    expect(await container.warmUp!()).toBe(true);
    const code = kind.startsWith('python') ? 'def main(a):\n    return {"mine": True}\n' : 'function main() { return { mine: true }; }';
    expect((await container.init({ value: { code, main: 'main' } }, 30_000)).statusCode).toBe(200);
    expect(await container.run({ value: {} }, 30_000)).toMatchObject({ statusCode: 200, body: { mine: true } });
    expect((await container.collectLogs(1024 * 1024, 5000)).lines).toEqual([]);
  });

  test.each(['nodejs:20', 'python:3.11'])('a %s runtime hangs up on a connection that shows no token, and keeps its invoker’s', async (kind) => {
    const { container, socketPath } = await create(kind);
    await listening(socketPath);
    const code = kind.startsWith('python') ? 'def main(a):\n    return {"ok": True}\n' : 'function main() { return { ok: true }; }';
    expect((await container.init({ value: { code, main: 'main' } }, 30_000)).statusCode).toBe(200);
    // A flood of idle connections cannot hold the runtime's descriptors: each is dropped...
    const idle = Array.from({ length: 20 }, () => connect(socketPath));
    await Promise.all(idle.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
    // ...while the invoker's own connection, older than that wait, still serves.
    expect(await container.run({ value: {} }, 30_000)).toMatchObject({ statusCode: 200, body: { ok: true } });
  }, 60_000);

  (sandbox || process.getuid?.() !== 0 ? test.skip : test)('what an action leaves in the host’s shared scratch directories goes with its container', async () => {
    const { container } = await create('nodejs:20');
    const marker = `skywhisk-left-${process.pid}-${Date.now()}`;
    const code = `function main({ marker }) {
      const fs = require('fs');
      for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) { fs.mkdirSync(dir + '/' + marker); fs.writeFileSync(dir + '/' + marker + '/data', 'x'.repeat(1024)); }
      return { left: true };
    }`;
    expect((await container.init({ value: { code, main: 'main' } }, 30_000)).statusCode).toBe(200);
    expect(await container.run({ value: { marker } }, 30_000)).toMatchObject({ statusCode: 200, body: { left: true } });
    for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) expect(existsSync(join(dir, marker))).toBe(true);
    await container.destroy();
    made.splice(made.indexOf(container), 1);
    for (const dir of ['/tmp', '/var/tmp', '/dev/shm']) expect(existsSync(join(dir, marker))).toBe(false);
  });

  test('another action’s code cannot run anything in a container, and does not see its own token', async () => {
    const { container: target, socketPath } = await create('nodejs:20');
    expect((await target.init({ value: { code: side.actionCode(), main: 'main' } }, 30_000)).statusCode).toBe(200);
    const { container: intruder } = await create('nodejs:20');
    const code = ATTACKER_CODE.replace('async function main({', 'async function attack({') + '\nasync function main(args) { return { ...(await attack(args)), env: process.env }; }';
    expect((await intruder.init({ value: { code, main: 'main' } }, 30_000)).statusCode).toBe(200);
    const stolen = `stolen-by-action-${mode}`;
    const response = await intruder.run({ value: { socketPath, path: '/run', body: { value: {}, activation_id: stolen } } }, 30_000);
    const result = response.body as { bare: Probe; guessed: Probe; env: Record<string, string> };
    // Under bubblewrap another container's socket is not even in the sandbox; without it, as root,
    // each container has a user of its own and another's work directory is closed to it.
    const refused = sandbox ? { error: 'ENOENT' } : process.getuid?.() === 0 ? { error: 'EACCES' } : { status: 403, body: FORBIDDEN };
    expect(result).toMatchObject({ bare: refused, guessed: refused });
    expect(side.hits.get(stolen)).toBeUndefined();
    expect(Object.keys(result.env).filter((k) => /^(AWS_|SKYWHISK_)/.test(k) || k.startsWith(TOKEN_ENV))).toEqual([]);
  });
});
