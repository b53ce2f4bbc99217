import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSandbox, installedClient, type ClientRun } from '../helpers/npm-clients';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { zipBase64 } from '../helpers/zip';

// Adobe I/O Runtime's CLI (@adobe/aio-cli with its runtime plugin, unchanged from npm) driven as an
// Adobe user drives it: a zipped action, its logs, API routes, a manifest with `apis:` deployed and
// exported, against the platform `npm start` runs. Runtime auth comes from the environment, so the
// CLI never asks Adobe's identity service for a token.

let env: TestPlatform;
let sandbox: ClientSandbox;
let aioBin: string;
const project = mkdtempSync(join(tmpdir(), 'skywhisk-aio-'));
/** An aio command (in `cwd`, the project by default); each one must have reached nothing beyond loopback. */
async function aioIn(cwd: string, ...args: string[]): Promise<ClientRun> {
  const run = await sandbox.run(aioBin, args, cwd);
  expect(sandbox.blockedConnections()).toEqual([]);
  return run;
}
const aio = (...args: string[]): Promise<ClientRun> => aioIn(project, ...args);

const PROJECT_MANIFEST = `project:
  name: shop
  packages:
    shop:
      version: 1.0
      license: Apache-2.0
      actions:
        hello:
          function: src/hello.js
          runtime: nodejs:20
          web: true
        first:
          function: src/first.js
          runtime: nodejs:20
      sequences:
        pipeline:
          actions: first, hello
          web: true
      apis:
        shop-api:
          store:
            items:
              hello:
                method: get
                response: http
`;

beforeAll(async () => {
  const clients = await installedClient('aio');
  aioBin = join(clients, 'node_modules/@adobe/aio-cli/bin/run');
  env = await startTestPlatform();
  sandbox = new ClientSandbox({
    AIO_RUNTIME_APIHOST: env.platform.apiHost,
    AIO_RUNTIME_AUTH: env.platform.auth,
    AIO_RUNTIME_NAMESPACE: 'guest',
    USE_RUNTIME_AUTH: 'true',
    AIO_TELEMETRY_DISABLED: 'true',
    AIO_SKIP_NEW_VERSION_CHECK: 'true',
    CI: 'true',
  });
  mkdirSync(join(project, 'src'));
  writeFileSync(join(project, 'src/hello.js'), "exports.main = (p) => ({ statusCode: 200, body: { hello: p.name || 'world' } });\n");
  writeFileSync(join(project, 'src/first.js'), "exports.main = (p) => ({ name: (p.name || 'world').toUpperCase() });\n");
  writeFileSync(join(project, 'manifest.yml'), PROJECT_MANIFEST);
  const zip = await zipBase64({ 'package.json': '{"main":"lib/greeter.js"}', 'lib/greeter.js': "exports.greet = (p) => { console.log('greeting ' + p.name); return { greeting: 'hi ' + p.name }; };\n" });
  writeFileSync(join(project, 'greeter.zip'), Buffer.from(zip, 'base64'));
}, 900_000);

afterAll(async () => {
  await env?.stop();
});

test('a zip created with aio rt action create runs, and aio rt activation logs shows its output', async () => {
  const created = await aio('rt', 'action', 'create', 'greeter', 'greeter.zip', '--kind', 'nodejs:20', '--main', 'greet', '--web', 'true');
  expect(created.stderr).toBe('');
  expect(created.code).toBe(0);
  expect((await env.wsk().actions.get({ name: 'greeter' })).exec).toMatchObject({ binary: true });

  const invoked = await aio('rt', 'action', 'invoke', 'greeter', '-p', 'name', 'Ada', '-r');
  expect(invoked.code).toBe(0);
  expect(JSON.parse(invoked.stdout)).toEqual({ greeting: 'hi Ada' });

  // Every form of the log command first asks for the namespace's log forwarding.
  for (const command of [['rt', 'activation', 'logs'], ['rt', 'activation', 'logs', '-l'], ['rt', 'logs']]) {
    const logs = await aio(...command);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toContain('stdout: greeting Ada');
  }
}, 300_000);

test('aio rt api create makes a route that answers, and aio rt api list shows it', async () => {
  const created = await aio('rt', 'api', 'create', '/zips', '/greet', 'get', 'greeter');
  expect(created.code).toBe(0);
  expect(created.stdout).toContain(`${env.platform.apiHost}/api/guest/zips/greet`);
  expect(await (await fetch(`${env.platform.apiHost}/api/guest/zips/greet?name=Bo`)).json()).toEqual({ greeting: 'hi Bo' });

  const listed = await aio('rt', 'api', 'list');
  expect(listed.code).toBe(0);
  const row = listed.stdout.split('\n').find((line) => line.includes('/zips/greet'));
  expect(row?.trim().split(/\s+/)).toEqual(['/getGreet', 'get', '/zips', `${env.platform.apiHost}/api/guest/zips/greet`]);

  const got = await aio('rt', 'api', 'get', '/zips');
  expect(JSON.parse(got.stdout)).toMatchObject({ swagger: '2.0', basePath: '/zips', paths: { '/greet': { get: { 'x-openwhisk': { action: 'greeter' } } } } });
}, 120_000);

test('aio rt deploy -m, then deploy sync, of a manifest with apis: deploy the package, the sequence and the route', async () => {
  const deployed = await aio('rt', 'deploy', '-m', 'manifest.yml');
  expect(deployed.code).toBe(0);
  expect(deployed.stdout + deployed.stderr).toContain('Deployment completed successfully');
  expect((await fetch(`${env.platform.apiHost}/api/guest/store/items?name=Ed`)).status).toBe(200);
  // sync deploys it again, marking every entity as the project's (what export and undeploy find).
  const synced = await aio('rt', 'deploy', 'sync', '-m', 'manifest.yml');
  expect(synced.code).toBe(0);
  expect(synced.stdout + synced.stderr).toContain('Deployment completed successfully');

  const route = await fetch(`${env.platform.apiHost}/api/guest/store/items?name=Cy`);
  expect(route.status).toBe(200);
  expect(await route.json()).toEqual({ hello: 'Cy' });
  const sequence = await fetch(`${env.platform.apiHost}/api/v1/web/guest/shop/pipeline.json?name=Di`);
  expect(await sequence.json()).toEqual({ statusCode: 200, body: { hello: 'DI' } });

  const packages = await aio('rt', 'package', 'list');
  // A plain package lists as a package, not as a binding.
  expect(packages.stdout.split('\n').find((line) => /\sshop\s*$/.test(line))).toMatch(/\bpackage\b/);
  const apis = await aio('rt', 'api', 'list');
  expect(apis.stdout).toMatch(new RegExp(`get\\s+shop-api\\s+${env.platform.apiHost}/api/guest/store/items`));
}, 300_000);

test('aio rt deploy export writes back the project, the sequence with its components and the code', async () => {
  const out = join(project, 'exported');
  mkdirSync(out);
  const exported = await aioIn(out, 'rt', 'deploy', 'export', '--manifest', 'manifest.yml', '--projectname', 'shop');
  expect(exported.code).toBe(0);
  const manifest = readFileSync(join(out, 'manifest.yml'), 'utf8');
  expect(manifest).toMatch(/sequences:\s*\n\s+pipeline:\s*\n\s+actions: first,hello/);
  expect(manifest).toMatch(/hello:[\s\S]*function: shop\/hello\.js[\s\S]*runtime: nodejs:20/);
  expect(readFileSync(join(out, 'shop/hello.js'), 'utf8')).toContain("hello: p.name || 'world'");
}, 120_000);

test('aio rt api delete and aio rt deploy undeploy take the routes and the project away', async () => {
  expect((await aio('rt', 'api', 'delete', '/zips')).code).toBe(0);
  expect((await fetch(`${env.platform.apiHost}/api/guest/zips/greet`)).status).toBe(404);

  const undeployed = await aio('rt', 'deploy', 'undeploy', '-m', 'manifest.yml');
  expect(undeployed.code).toBe(0);
  expect((await fetch(`${env.platform.apiHost}/api/guest/store/items`)).status).toBe(404);
  await expect(env.wsk().packages.get({ name: 'shop' })).rejects.toMatchObject({ statusCode: 404 });
}, 300_000);

test('nothing the CLI started reached beyond loopback after its commands ended either', () => {
  expect(sandbox.blockedConnections()).toEqual([]);
});
