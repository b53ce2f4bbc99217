import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dockerTestsEnabled } from '../helpers/docker';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// Tools that start the runtime image themselves, as wskdebug does, find OpenWhisk's layout: the
// image `GET /` advertises for nodejs:20 runs `node --inspect=... app.js` from its working
// directory, /nodejsAction, and then answers /init and /run on port 8080.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const docker = promisify(execFile);
const CONTAINER = `skywhisk-layout-test-${process.pid}`;

// Run inside the container (it has no network but its own loopback): waits for the proxy, then
// drives it as wskdebug does and reads the inspector's version endpoint.
const PROBE = `
const post = (path, body) => fetch('http://127.0.0.1:8080' + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
(async () => {
  for (let i = 0; i < 100; i++) {
    try { await fetch('http://127.0.0.1:8080/'); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const init = await post('/init', { value: { main: 'main', code: 'function main(p) { return { hello: p.name, cwd: process.cwd() }; }' } });
  const run = await post('/run', { value: { name: 'Ada' } });
  const inspector = await (await fetch('http://127.0.0.1:9229/json/version')).json();
  console.log(JSON.stringify({ init: init.status, run: await run.json(), inspector: Boolean(inspector.Browser) }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e) })); });
`;

describeDocker('the nodejs runtime image, started as wskdebug starts it', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform();
  });

  afterAll(async () => {
    await docker('docker', ['rm', '-f', CONTAINER]).catch(() => undefined);
    await env?.stop();
  });

  test('the advertised image runs app.js from /nodejsAction with the inspector, and answers /init and /run', async () => {
    const info = (await (await fetch(`${env.platform.apiHost}/`)).json()) as { runtimes: { nodejs: Array<{ kind: string; image: string }> } };
    const image = info.runtimes.nodejs.find((r) => r.kind === 'nodejs:20')?.image;
    expect(image).toBeDefined();

    // wskdebug replaces the command with a shell line and keeps the image's working directory.
    await docker('docker', ['run', '-d', '--name', CONTAINER, '--network', 'none', image!, 'sh', '-c', 'node --expose-gc --inspect=127.0.0.1:9229 app.js']);
    const { stdout } = await docker('docker', ['exec', CONTAINER, 'node', '-e', PROBE]);
    // app.js starts from /nodejsAction; the action runs from /tmp, the only writable place.
    expect(JSON.parse(stdout)).toEqual({ init: 200, run: { hello: 'Ada', cwd: '/tmp' }, inspector: true });
  }, 60_000);
});
