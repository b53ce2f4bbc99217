import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// What `skywhisk` sends for triggers (and feeds), rules, packages, namespaces, the new action
// flags and `activation poll`, against a local HTTP server that records each request and answers
// in OpenWhisk's shapes.

const BIN = resolve(__dirname, '../../bin/skywhisk.js');
const AUTH = '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secretkey';
const home = mkdtempSync(join(tmpdir(), 'skywhisk-cli-unit-'));

interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}
interface Reply {
  status: number;
  body?: unknown;
}
type Handler = (request: Recorded) => Reply | undefined;

let server: Server;
let apihost: string;
let requests: Recorded[] = [];
let handler: Handler = () => undefined;

/** Answers the caller's namespace; everything not handled is 200 `{}`. */
function reply(request: Recorded): Reply {
  const answer = handler(request);
  if (answer) return answer;
  if (request.method === 'GET' && request.path === 'namespaces') return { status: 200, body: ['guest'] };
  return { status: 200, body: {} };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: Recorded = {
        method: req.method ?? '',
        path: url.pathname.replace(/^\/api\/v1\//, ''),
        query: Object.fromEntries(url.searchParams),
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(request);
      const { status, body } = reply(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 || body === undefined ? undefined : JSON.stringify(body));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  apihost = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
});

beforeEach(() => {
  requests = [];
  handler = () => undefined;
});

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

/** The CLI as a user runs it, with no wskprops file (namespace `_`) unless `env` names one. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, '--apihost', apihost, '--auth', AUTH, ...args],
      { env: { PATH: process.env.PATH, HOME: home, ...env } },
      (error, stdout, stderr) => done({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

const withGuestProps = (() => {
  const file = join(home, 'wskprops-guest');
  writeFileSync(file, `NAMESPACE=guest\n`);
  return { WSK_CONFIG_FILE: file };
})();

const calls = () => requests.map((r) => `${r.method} ${r.path}`);
const FEED = '/whisk.system/alarms/alarm';
const success = (id: string) => ({ status: 200, body: { activationId: id, response: { status: 'success', success: true, result: {} } } });

describe('triggers', () => {
  test('create and update send parameters and annotations; update overwrites', async () => {
    handler = (r) => (r.method === 'GET' ? { status: 404, body: { error: 'The requested resource does not exist.', code: 'x' } } : undefined);
    const created = await cli(['trigger', 'create', 't', '-p', 'a', '1', '-a', 'description', 'ticks']);
    expect(created).toMatchObject({ code: 0, stdout: 'ok: created trigger t\n' });
    expect(requests).toEqual([
      { method: 'PUT', path: 'namespaces/_/triggers/t', query: {}, body: { parameters: [{ key: 'a', value: 1 }], annotations: [{ key: 'description', value: 'ticks' }] } },
    ]);

    requests = [];
    const updated = await cli(['trigger', 'update', 't', '-p', 'a', '2']);
    expect(updated).toMatchObject({ code: 0, stdout: 'ok: updated trigger t\n' });
    expect(requests.at(-1)).toEqual({ method: 'PUT', path: 'namespaces/_/triggers/t', query: { overwrite: 'true' }, body: { parameters: [{ key: 'a', value: 2 }] } });
  });

  test('--feed: the trigger carries the feed annotation but no parameters; the feed hears CREATE with the parameters', async () => {
    handler = (r) => (r.method === 'POST' ? success('feed0001') : undefined);
    const run = await cli(['trigger', 'create', 'T', '--feed', FEED, '-p', 'cron', '*/1 * * * *', '-p', 'trigger_payload', '{"n":1}']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`ok: invoked ${FEED} with id feed0001\nok: created trigger T\n`);
    expect(calls()).toEqual(['GET namespaces', 'PUT namespaces/_/triggers/T', 'POST namespaces/whisk.system/actions/alarms/alarm']);
    expect(requests[1].body).toEqual({ annotations: [{ key: 'feed', value: FEED }] });
    expect(requests[2].query).toEqual({ blocking: 'true', result: 'false' });
    expect(requests[2].body).toEqual({ lifecycleEvent: 'CREATE', triggerName: '/guest/T', authKey: AUTH, cron: '*/1 * * * *', trigger_payload: { n: 1 } });
  });

  test('--feed with a configured namespace names the trigger in it without asking the API host', async () => {
    handler = (r) => (r.method === 'POST' ? success('feed0002') : undefined);
    const run = await cli(['trigger', 'create', 'T', '--feed', 'alarms/alarm', '-p', 'cron', '* * * * *'], withGuestProps);
    expect(run.code).toBe(0);
    expect(calls()).toEqual(['PUT namespaces/guest/triggers/T', 'POST namespaces/guest/actions/alarms/alarm']);
    expect(requests[0].body).toEqual({ annotations: [{ key: 'feed', value: '/guest/alarms/alarm' }] });
    expect(requests[1].body).toMatchObject({ lifecycleEvent: 'CREATE', triggerName: '/guest/T' });
  });

  test('a feed whose activation fails removes the trigger again and reports the error', async () => {
    handler = (r) =>
      r.method === 'POST' ? { status: 502, body: { activationId: 'feed0003', response: { status: 'application error', success: false, result: { error: 'cron pattern is not valid' } } } } : undefined;
    const run = await cli(['trigger', 'create', 'T', '--feed', FEED, '-p', 'cron', 'nonsense']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain("Unable to create trigger 'T': cron pattern is not valid");
    expect(calls()).toEqual(['GET namespaces', 'PUT namespaces/_/triggers/T', 'POST namespaces/whisk.system/actions/alarms/alarm', 'DELETE namespaces/_/triggers/T']);
  });

  test('a feed that cannot be invoked (404) removes the trigger again', async () => {
    handler = (r) => (r.method === 'POST' ? { status: 404, body: { error: 'The requested resource does not exist.', code: 'x' } } : undefined);
    const run = await cli(['trigger', 'create', 'T', '--feed', '/whisk.system/none/feed']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Unable to create trigger 'T': The requested resource does not exist. (404)");
    expect(calls().at(-1)).toBe('DELETE namespaces/_/triggers/T');
  });

  test('delete of a feed trigger tells the feed (DELETE) first, then deletes the trigger', async () => {
    handler = (r) => {
      if (r.method === 'GET' && r.path === 'namespaces/_/triggers/T') return { status: 200, body: { namespace: 'guest', name: 'T', annotations: [{ key: 'feed', value: FEED }] } };
      if (r.method === 'POST') return success('feed0004');
      return undefined;
    };
    const run = await cli(['trigger', 'delete', 'T']);
    expect(run).toMatchObject({ code: 0, stdout: `ok: invoked ${FEED} with id feed0004\nok: deleted trigger T\n` });
    expect(calls()).toEqual(['GET namespaces/_/triggers/T', 'GET namespaces', 'POST namespaces/whisk.system/actions/alarms/alarm', 'DELETE namespaces/_/triggers/T']);
    expect(requests[2].body).toEqual({ lifecycleEvent: 'DELETE', triggerName: '/guest/T', authKey: AUTH });
  });

  test('delete keeps a feed trigger whose feed refuses the DELETE', async () => {
    handler = (r) => {
      if (r.method === 'GET' && r.path.endsWith('/triggers/T')) return { status: 200, body: { namespace: 'guest', name: 'T', annotations: [{ key: 'feed', value: FEED }] } };
      if (r.method === 'POST') return { status: 502, body: { activationId: 'x', response: { status: 'application error', success: false, result: { error: 'provider down' } } } };
      return undefined;
    };
    const run = await cli(['trigger', 'delete', 'T']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Unable to delete trigger 'T': provider down");
    expect(calls()).not.toContain('DELETE namespaces/_/triggers/T');
  });

  test('update of a feed trigger passes the parameters to the feed (UPDATE) and annotations to the trigger', async () => {
    handler = (r) => {
      if (r.method === 'GET' && r.path === 'namespaces/guest/triggers/T') return { status: 200, body: { namespace: 'guest', name: 'T', annotations: [{ key: 'feed', value: FEED }] } };
      if (r.method === 'POST') return success('feed0005');
      return undefined;
    };
    const run = await cli(['trigger', 'update', 'T', '-p', 'cron', '0 * * * *', '-a', 'description', 'hourly'], withGuestProps);
    expect(run).toMatchObject({ code: 0, stdout: `ok: invoked ${FEED} with id feed0005\nok: updated trigger T\n` });
    expect(calls()).toEqual(['GET namespaces/guest/triggers/T', 'POST namespaces/whisk.system/actions/alarms/alarm', 'PUT namespaces/guest/triggers/T']);
    expect(requests[1].body).toEqual({ lifecycleEvent: 'UPDATE', triggerName: '/guest/T', authKey: AUTH, cron: '0 * * * *' });
    expect(requests[2]).toMatchObject({ query: { overwrite: 'true' }, body: { annotations: [{ key: 'feed', value: FEED }, { key: 'description', value: 'hourly' }] } });
  });

  test('delete of a plain trigger is a GET and a DELETE', async () => {
    handler = (r) => (r.method === 'GET' ? { status: 200, body: { namespace: 'guest', name: 't', annotations: [] } } : undefined);
    expect(await cli(['trigger', 'delete', 't'])).toMatchObject({ code: 0, stdout: 'ok: deleted trigger t\n' });
    expect(calls()).toEqual(['GET namespaces/_/triggers/t', 'DELETE namespaces/_/triggers/t']);
  });

  test('fire posts the parameters and prints the activation id; 204 means no active rule', async () => {
    handler = () => ({ status: 202, body: { activationId: 'a1b2c3' } });
    const params = join(home, 'fire.json');
    writeFileSync(params, JSON.stringify({ from: 'file', x: 0 }));
    const fired = await cli(['trigger', 'fire', 't', '-P', params, '-p', 'x', '1']);
    expect(fired).toMatchObject({ code: 0, stdout: 'ok: fired trigger t with id a1b2c3\n' });
    expect(requests).toEqual([{ method: 'POST', path: 'namespaces/_/triggers/t', query: {}, body: { from: 'file', x: 1 } }]);

    handler = () => ({ status: 204 });
    expect(await cli(['trigger', 'fire', 't'])).toMatchObject({ code: 0, stdout: 'ok: fired trigger t; no active rule, so no activation\n' });
  });

  test('list pages with --limit and --skip, lists another namespace, and prints a table', async () => {
    handler = (r) =>
      r.path.endsWith('/triggers')
        ? { status: 200, body: [{ namespace: 'guest', name: 'b', publish: false }, { namespace: 'guest', name: 'a', publish: true }] }
        : undefined;
    const run = await cli(['trigger', 'list', '--limit', '5', '--skip', '2', '--name-sort']);
    expect(requests).toEqual([{ method: 'GET', path: 'namespaces/_/triggers', query: { limit: '5', skip: '2' }, body: undefined }]);
    expect(run.stdout).toMatch(/^triggers\n\/guest\/a\s+shared\n\/guest\/b\s+private\n$/);
    await cli(['trigger', 'list', '/other']);
    expect(calls().at(-1)).toBe('GET namespaces/other/triggers');
  });

  test('get prints the trigger; --summary its name and parameters', async () => {
    handler = () => ({ status: 200, body: { namespace: 'guest', name: 't', parameters: [{ key: 'a', value: 1 }], annotations: [{ key: 'description', value: 'ticks' }] } });
    const got = await cli(['trigger', 'get', 't']);
    expect(got.stdout.split('\n')[0]).toBe('ok: got trigger t');
    expect(JSON.parse(got.stdout.slice(got.stdout.indexOf('\n')))).toMatchObject({ name: 't' });
    expect((await cli(['trigger', 'get', 't', '--summary'])).stdout).toBe('trigger /guest/t: ticks\n   (parameters: *a)\n');
  });
});

describe('rules', () => {
  test('create qualifies the trigger and action with the caller namespace', async () => {
    const run = await cli(['rule', 'create', 'r', 't', 'a']);
    expect(run).toMatchObject({ code: 0, stdout: 'ok: created rule r\n' });
    expect(requests.at(-1)).toEqual({ method: 'PUT', path: 'namespaces/_/rules/r', query: {}, body: { trigger: '/guest/t', action: '/guest/a' } });

    requests = [];
    await cli(['rule', 'update', 'r', '/other/t', 'pkg/a'], withGuestProps);
    expect(requests).toEqual([{ method: 'PUT', path: 'namespaces/guest/rules/r', query: { overwrite: 'true' }, body: { trigger: '/other/t', action: '/guest/pkg/a' } }]);
  });

  test('enable, disable and status', async () => {
    expect(await cli(['rule', 'enable', 'r'])).toMatchObject({ code: 0, stdout: 'ok: enabled rule r\n' });
    expect(await cli(['rule', 'disable', 'r'])).toMatchObject({ code: 0, stdout: 'ok: disabled rule r\n' });
    expect(requests).toEqual([
      { method: 'POST', path: 'namespaces/_/rules/r', query: {}, body: { status: 'active' } },
      { method: 'POST', path: 'namespaces/_/rules/r', query: {}, body: { status: 'inactive' } },
    ]);
    handler = () => ({ status: 200, body: { namespace: 'guest', name: 'r', status: 'active', trigger: { path: 'guest', name: 't' }, action: { path: 'guest', name: 'a' } } });
    expect(await cli(['rule', 'status', 'r'])).toMatchObject({ code: 0, stdout: 'ok: rule r is active\n' });
  });

  test('delete --disable deactivates, then deletes', async () => {
    expect(await cli(['rule', 'delete', 'r', '--disable'])).toMatchObject({ code: 0, stdout: 'ok: deleted rule r\n' });
    expect(calls()).toEqual(['POST namespaces/_/rules/r', 'DELETE namespaces/_/rules/r']);
    expect(requests[0].body).toEqual({ status: 'inactive' });
  });

  test('list shows each rule with its status; a missing rule is an error', async () => {
    handler = (r) =>
      r.path.endsWith('/rules')
        ? { status: 200, body: [{ namespace: 'guest', name: 'r', publish: false, status: 'inactive' }] }
        : { status: 404, body: { error: 'The requested resource does not exist.', code: 'x' } };
    expect((await cli(['rule', 'list', '--limit', '1'])).stdout).toMatch(/^rules\n\/guest\/r\s+private\s+inactive\n$/);
    expect(requests[0].query).toEqual({ limit: '1' });
    const missing = await cli(['rule', 'get', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: The requested resource does not exist. (404)\n');
  });
});

describe('packages', () => {
  test('create and update with parameters, annotations and --shared', async () => {
    expect(await cli(['package', 'create', 'p', '-p', 'k', 'v', '-a', 'description', 'mine', '--shared', 'yes'])).toMatchObject({
      code: 0,
      stdout: 'ok: created package p\n',
    });
    await cli(['package', 'update', 'p', '--shared', 'no']);
    expect(requests).toEqual([
      { method: 'PUT', path: 'namespaces/_/packages/p', query: {}, body: { parameters: [{ key: 'k', value: 'v' }], annotations: [{ key: 'description', value: 'mine' }], publish: true } },
      { method: 'PUT', path: 'namespaces/_/packages/p', query: { overwrite: 'true' }, body: { publish: false } },
    ]);
    const bad = await cli(['package', 'create', 'p', '--shared', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Invalid argument 'maybe' for --shared");
    expect(requests).toHaveLength(2);
  });

  test('bind names the bound package by namespace and name', async () => {
    const run = await cli(['package', 'bind', '/whisk.system/utils', 'myutils', '-p', 'x', '1']);
    expect(run).toMatchObject({ code: 0, stdout: 'ok: created binding myutils\n' });
    expect(requests).toEqual([
      {
        method: 'PUT',
        path: 'namespaces/_/packages/myutils',
        query: {},
        body: { binding: { namespace: 'whisk.system', name: 'utils' }, parameters: [{ key: 'x', value: 1 }], annotations: [] },
      },
    ]);
    requests = [];
    await cli(['package', 'bind', 'mine', 'b']);
    expect(calls()).toEqual(['GET namespaces', 'PUT namespaces/_/packages/b']);
    expect(requests[1].body).toMatchObject({ binding: { namespace: 'guest', name: 'mine' } });
  });

  test("list of another namespace, get --summary with the package's actions, delete", async () => {
    handler = (r) => {
      if (r.path === 'namespaces/whisk.system/packages') return { status: 200, body: [{ namespace: 'whisk.system', name: 'utils', publish: true }] };
      if (r.method === 'GET' && r.path === 'namespaces/whisk.system/packages/utils') {
        return {
          status: 200,
          body: {
            namespace: 'whisk.system',
            name: 'utils',
            annotations: [{ key: 'description', value: 'Building blocks' }],
            parameters: [],
            actions: [{ name: 'echo', annotations: [{ key: 'description', value: 'Returns its input' }, { key: 'parameters', value: [{ name: 'any' }] }] }],
          },
        };
      }
      return undefined;
    };
    expect((await cli(['package', 'list', '/whisk.system'])).stdout).toMatch(/^packages\n\/whisk\.system\/utils\s+shared\n$/);
    expect((await cli(['package', 'get', '/whisk.system/utils', '--summary'])).stdout).toBe(
      [
        'package /whisk.system/utils: Building blocks',
        '   (parameters: none defined)',
        // wsk pads the label inside a package summary, never the parameter line.
        ' action /whisk.system/utils/echo: Returns its input',
        '   (parameters: any)',
        '',
      ].join('\n'),
    );
    expect(await cli(['package', 'delete', 'p'])).toMatchObject({ code: 0, stdout: 'ok: deleted package p\n' });
    expect(calls()).toEqual(['GET namespaces/whisk.system/packages', 'GET namespaces/whisk.system/packages/utils', 'DELETE namespaces/_/packages/p']);
  });
});

describe('action flags', () => {
  const annotationsOf = (r: Recorded) => Object.fromEntries(((r.body as { annotations: Array<{ key: string; value: unknown }> }).annotations ?? []).map((a) => [a.key, a.value]));

  test('--sequence makes a sequence of fully qualified components, and takes no file', async () => {
    const run = await cli(['action', 'create', 's', '--sequence', 'a,pkg/b,/whisk.system/utils/echo']);
    expect(run).toMatchObject({ code: 0, stdout: 'ok: created action s\n' });
    expect(requests.at(-1)).toEqual({
      method: 'PUT',
      path: 'namespaces/_/actions/s',
      query: {},
      body: { exec: { kind: 'sequence', components: ['/guest/a', '/guest/pkg/b', '/whisk.system/utils/echo'] } },
    });
    const file = join(home, 'x.js');
    writeFileSync(file, 'function main() { return {}; }');
    requests = [];
    const both = await cli(['action', 'create', 's', file, '--sequence', 'a']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('takes no file');
    expect(requests).toEqual([]);
  });

  test('--native sends a zip as wsk does: kind blackbox in the skeleton image; it needs a file and no --docker or --kind', async () => {
    const zip = join(home, 'exec.zip');
    writeFileSync(zip, Buffer.from('PK fake zip'));
    const run = await cli(['action', 'create', 'n', zip, '--native']);
    expect(run).toMatchObject({ code: 0, stdout: 'ok: created action n\n' });
    expect(requests.at(-1)?.body).toEqual({ exec: { kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: Buffer.from('PK fake zip').toString('base64'), binary: true } });
    requests = [];
    for (const args of [['--native'], [zip, '--native', '--docker', 'me/img'], [zip, '--native', '--kind', 'nodejs:22']]) {
      const refused = await cli(['action', 'create', 'n', ...args]);
      expect(refused.code).toBe(1);
    }
    expect(requests).toEqual([]);
  });

  test('--web true, raw and false set the web annotations; -a wins over them', async () => {
    await cli(['action', 'create', 'w', '--docker', 'me/img:1', '--web', 'true']);
    expect(requests[0].body).toMatchObject({ exec: { kind: 'blackbox', image: 'me/img:1' } });
    expect(annotationsOf(requests[0])).toEqual({ 'web-export': true, 'raw-http': false, final: true });
    await cli(['action', 'create', 'w', '--docker', 'me/img:1', '--web', 'raw', '-a', 'final', 'false']);
    expect(annotationsOf(requests[1])).toEqual({ 'web-export': true, 'raw-http': true, final: false });
    const bad = await cli(['action', 'create', 'w', '--docker', 'me/img:1', '--web', 'sometimes']);
    expect(bad.code).toBe(1);
    expect(requests).toHaveLength(2);
  });

  test('update --web false keeps the other annotations the action has', async () => {
    handler = (r) =>
      r.method === 'GET'
        ? {
            status: 200,
            body: {
              name: 'w',
              annotations: [
                { key: 'web-export', value: true },
                { key: 'final', value: true },
                { key: 'require-whisk-auth', value: 7 },
                { key: 'description', value: 'kept' },
              ],
            },
          }
        : undefined;
    expect(await cli(['action', 'update', 'w', '--web', 'no'])).toMatchObject({ code: 0, stdout: 'ok: updated action w\n' });
    expect(calls()).toEqual(['GET namespaces/_/actions/w', 'PUT namespaces/_/actions/w']);
    expect(requests[0].query).toEqual({ code: 'false' });
    expect(requests[1].query).toEqual({ overwrite: 'true' });
    expect(annotationsOf(requests[1])).toEqual({ 'web-export': false, 'raw-http': false, final: true, 'require-whisk-auth': 7, description: 'kept' });
  });

  test('--web-secure: a given secret, a drawn numeric one, and only on web actions', async () => {
    await cli(['action', 'create', 'w', '--docker', 'i', '--web', 'yes', '--web-secure', 'hush']);
    expect(annotationsOf(requests[0])['require-whisk-auth']).toBe('hush');
    await cli(['action', 'create', 'w', '--docker', 'i', '--web', 'yes', '--web-secure', 'true']);
    const drawn = annotationsOf(requests[1])['require-whisk-auth'];
    expect(Number.isSafeInteger(drawn)).toBe(true);
    expect(drawn).toBeGreaterThan(0);
    const notWeb = await cli(['action', 'create', 'w', '--docker', 'i', '--web-secure', 'hush']);
    expect(notWeb.code).toBe(1);
    expect(notWeb.stderr).toContain('only valid when the --web option is enabled');
    expect(requests).toHaveLength(2);
  });

  test('--concurrency sets limits.concurrency; list of a package lists pkg/', async () => {
    await cli(['action', 'update', 'c', '-c', '4', '-m', '256']);
    expect(requests[0].body).toEqual({ limits: { memory: 256, concurrency: 4 } });
    const notANumber = await cli(['action', 'update', 'c', '--concurrency', 'many']);
    expect(notANumber).toMatchObject({ code: 1, stderr: "error: --concurrency takes a whole number, not 'many'.\n" });
    requests = requests.slice(0, 1);
    handler = (r) => (r.method === 'GET' ? { status: 200, body: [{ namespace: 'guest/pkg', name: 'a', publish: false, annotations: [{ key: 'exec', value: 'nodejs:20' }] }] } : undefined);
    const listed = await cli(['action', 'list', 'pkg/', '--limit', '3', '--skip', '1']);
    expect(requests[1]).toEqual({ method: 'GET', path: 'namespaces/_/actions/pkg/', query: { limit: '3', skip: '1' }, body: undefined });
    expect(listed.stdout).toMatch(/^actions\n\/guest\/pkg\/a\s+private\s+nodejs:20\n$/);
  });
});

describe('namespaces and list', () => {
  test('namespace list', async () => {
    expect(await cli(['namespace', 'list'])).toMatchObject({ code: 0, stdout: 'namespaces\nguest\n' });
  });

  test('list and namespace get show packages, actions, triggers and rules', async () => {
    handler = (r) => {
      if (r.path.endsWith('/packages')) return { status: 200, body: [{ namespace: 'guest', name: 'p', publish: true }] };
      if (r.path.endsWith('/actions')) return { status: 200, body: [{ namespace: 'guest', name: 'a', publish: false, annotations: [{ key: 'exec', value: 'nodejs:20' }] }] };
      if (r.path.endsWith('/triggers')) return { status: 200, body: [] };
      if (r.path.endsWith('/rules')) return { status: 200, body: [{ namespace: 'guest', name: 'r', publish: false, status: 'active' }] };
      return undefined;
    };
    const listed = await cli(['list']);
    expect(listed.stdout).toMatch(/^Entities in namespace: default\npackages\n\/guest\/p\s+shared\nactions\n\/guest\/a\s+private\s+nodejs:20\ntriggers\nrules\n\/guest\/r\s+private\s+active\n$/);
    expect(calls().sort()).toEqual(['GET namespaces/_/actions', 'GET namespaces/_/packages', 'GET namespaces/_/rules', 'GET namespaces/_/triggers']);
    requests = [];
    const got = await cli(['namespace', 'get', '/other', '--limit', '2']);
    expect(got.stdout.split('\n')[0]).toBe('Entities in namespace: other');
    expect(requests.map((r) => [r.path, r.query.limit])).toEqual(
      expect.arrayContaining([
        ['namespaces/other/packages', '2'],
        ['namespaces/other/actions', '2'],
        ['namespaces/other/triggers', '2'],
        ['namespaces/other/rules', '2'],
      ]),
    );
  });
});

describe('activation poll', () => {
  const record = (id: string, start: number, line: string) => ({ activationId: id, name: 'hello', namespace: 'guest', start, logs: [`2024-01-01T00:00:00.000Z stdout: ${line}`] });

  test('prints each new activation once, oldest first, and stops at --exit', async () => {
    let polls = 0;
    handler = (r) => {
      if (!r.path.endsWith('/activations')) return undefined;
      polls += 1;
      const page = polls === 1 ? [record('id1', 1, 'first')] : [record('id2', 2, 'second'), record('id1', 1, 'first')];
      return { status: 200, body: page };
    };
    const run = await cli(['activation', 'poll', 'hello', '--exit', '3', '--since-seconds', '60']);
    expect(run.code).toBe(0);
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(run.stdout).toBe(
      [
        'Enter Ctrl-c to exit.',
        'Polling for activation logs',
        '',
        "Activation: 'hello' (id1)",
        '2024-01-01T00:00:00.000Z stdout: first',
        '',
        "Activation: 'hello' (id2)",
        '2024-01-01T00:00:00.000Z stdout: second',
        '',
      ].join('\n'),
    );
    for (const r of requests) {
      expect(r.path).toBe('namespaces/_/activations');
      expect(r.query).toMatchObject({ docs: 'true', name: 'hello' });
    }
    // One `since` for every poll, 60 s before the poll started.
    expect(new Set(requests.map((r) => r.query.since)).size).toBe(1);
    expect(Number(requests[0].query.since)).toBeLessThanOrEqual(Date.now() - 60000);
  });

  test('--exit 0 polls once; a failing poll is an error', async () => {
    handler = (r) => (r.path.endsWith('/activations') ? { status: 200, body: [] } : undefined);
    expect(await cli(['activation', 'poll', '--exit', '0'])).toMatchObject({ code: 0, stdout: 'Enter Ctrl-c to exit.\nPolling for activation logs\n' });
    expect(requests).toHaveLength(1);
    expect(requests[0].query.name).toBeUndefined();
    handler = () => ({ status: 500, body: { error: 'down', code: 'x' } });
    const failed = await cli(['activation', 'poll', '--exit', '0']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: down (500)');
  });
});
