import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerTestsEnabled } from '../helpers/docker';
import { basicAuthHeader, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { containersFor, eventually, poolOf, prewarmedOf } from '../helpers/pool';

// A deployment's runtimes.json makes any image that speaks OpenWhisk's action protocol on port
// 8080 a kind, as OpenWhisk's own runtime images are. None can be pulled here: this suite gives
// our nodejs image another name, so the platform sees an image that is not one of its own, and
// runs it as OpenWhisk's nodejs image would be run (its server on 8080, the code sent in /init).

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const FOREIGN_IMAGE = 'skywhisk-test/openwhisk-style-nodejs';
const FOREIGN_TAG = `m${process.pid}`;

type Record_ = { response: { result: unknown; success: boolean; status: string }; logs: string[]; annotations: Array<{ key: string; value: unknown }> };

/** The discard port on loopback, which nothing on these machines serves: a pull from it is refused at once. */
const GONE_PORT = 9;

describeDocker('a runtimes manifest in OpenWhisk format', () => {
  let env: TestPlatform;
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-manifest-'));

  beforeAll(async () => {
    execFileSync('docker', ['tag', 'skywhisk/action-nodejs-v22', `${FOREIGN_IMAGE}:${FOREIGN_TAG}`]);
    const manifest = {
      description: ['a deployment of nodejs only, with one kind from a foreign image'],
      runtimes: {
        nodejs: [
          { kind: 'nodejs:22', default: true, deprecated: false, image: { prefix: 'skywhisk', name: 'action-nodejs-v22', tag: 'latest' }, stemCells: [{ initialCount: 1, memory: '256 MB' }] },
          // An image no registry has: a closed loopback port, so the pull fails at once and goes nowhere else.
          { kind: 'nodejs:gone', image: { registry: `127.0.0.1:${GONE_PORT}`, prefix: 'skywhisk-test', name: 'absent', tag: '1' } },
          {
            kind: 'nodejs:ow',
            default: false,
            deprecated: false,
            image: { prefix: 'skywhisk-test', name: 'openwhisk-style-nodejs', tag: FOREIGN_TAG },
            attached: { attachmentName: 'codefile', attachmentType: 'text/plain' },
            stemCells: [{ initialCount: 1, memory: '256 MB' }],
          },
        ],
      },
    };
    writeFileSync(join(dir, 'runtimes.json'), JSON.stringify(manifest, null, 2));
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_INVOKER_ID: `manifest-${process.pid}`, SKYWHISK_RUNTIMES: join(dir, 'runtimes.json') });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
    execFileSync('docker', ['rmi', `${FOREIGN_IMAGE}:${FOREIGN_TAG}`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  test('GET / lists the kinds the manifest gives, and only those', async () => {
    const info = (await (await fetch(`${env.platform.apiHost}/`)).json()) as { runtimes: Record<string, Array<{ kind: string; image: string; default: boolean }>> };
    expect(info.runtimes).toEqual({
      nodejs: [
        expect.objectContaining({ kind: 'nodejs:22', image: 'skywhisk/action-nodejs-v22', default: true }),
        expect.objectContaining({ kind: 'nodejs:gone', default: false }),
        expect.objectContaining({ kind: 'nodejs:ow', image: `${FOREIGN_IMAGE}:${FOREIGN_TAG}`, default: false }),
      ],
    });
  });

  test('an action of the foreign image kind runs there, from a stem cell of it, with its logs', () =>
    withInvokerLog(env, async () => {
      await eventually('a stem cell of the foreign kind', () => poolOf(env), (p) => prewarmedOf(p, 'nodejs:ow') === 1, 60_000);
      const before = (await poolOf(env)).counters;
      const wsk = env.wsk();
      await wsk.actions.create({ name: 'foreign', kind: 'nodejs:ow', action: 'function main(p) { console.log("in the foreign image"); return { n: p.n + 1 }; }' } as never);
      const record = (await wsk.actions.invoke({ name: 'foreign', blocking: true, params: { n: 41 } })) as Record_;
      expect(record.response).toMatchObject({ success: true, result: { n: 42 } });
      expect(record.logs.join('\n')).toContain('in the foreign image');
      expect(record.annotations).toEqual(expect.arrayContaining([{ key: 'kind', value: 'nodejs:ow' }]));
      expect((await poolOf(env)).counters.prewarmed - before.prewarmed).toBe(1);
      // It ran in that image, reached on its own port 8080 (no channel of ours is mounted in it).
      const [container] = await containersFor(env, 'guest/foreign');
      const inspected = JSON.parse(execFileSync('docker', ['inspect', container], { encoding: 'utf8' })) as Array<{ Config: { Image: string; Env: string[] }; HostConfig: { Binds: string[] | null } }>;
      expect(inspected[0].Config.Image).toBe(`${FOREIGN_IMAGE}:${FOREIGN_TAG}`);
      expect(inspected[0].Config.Env).toContain('__OW_LISTEN=8080');
      expect(inspected[0].HostConfig.Binds ?? []).toEqual([]);
    }));

  test('an image of the manifest may write outside /tmp, as OpenWhisk\'s runtimes write their action into their own directories', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'writer', kind: 'nodejs:ow', action: "function main() { require('fs').writeFileSync('/var/tmp/written', 'x'); return { wrote: true }; }" } as never);
    expect(await wsk.actions.invoke({ name: 'writer', blocking: true, result: true })).toEqual({ wrote: true });
  });

  test('a manifest image that cannot be pulled ends in a whisk error that names it (the platform\'s fault, not the action\'s)', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'gone', kind: 'nodejs:gone', action: 'function main() { return {}; }' } as never);
    const record = (await wsk.actions.invoke({ name: 'gone', blocking: true }).catch((error: { error: Record_ }) => error.error)) as Record_;
    expect(record.response).toMatchObject({ status: 'whisk internal error', success: false, result: { error: `Failed to pull container image '127.0.0.1:${GONE_PORT}/skywhisk-test/absent:1'.` } });
  });

  test('nodejs:default is the manifest default, and a kind the manifest leaves out is refused with 400, storing nothing', async () => {
    const wsk = env.wsk();
    const created = await wsk.actions.create({ name: 'by-default', kind: 'nodejs:default', action: 'function main() { return { ok: 1 }; }' } as never);
    expect(created.exec).toMatchObject({ kind: 'nodejs:22' });
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/snake`, {
      method: 'PUT',
      headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
      body: JSON.stringify({ exec: { kind: 'python:3.11', code: 'def main(a):\n    return a\n' } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; code: string };
    expect(body.error).toMatch(/The specified runtime 'python:3.11' is not supported by this platform\. Valid values are: 'nodejs:22', 'nodejs:gone', 'nodejs:ow', 'sequence', 'blackbox'\./);
    expect((await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/snake`, { headers: { authorization: basicAuthHeader(env.platform.auth) } })).status).toBe(404);
  });
});
