import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientSandbox, installedClient, type ClientRun } from '../helpers/npm-clients';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// A Serverless Framework project as an OpenWhisk user has it (serverless@3 with the
// serverless-openwhisk plugin, both unchanged from npm), deployed, invoked, read and removed
// against the platform `npm start` runs, with its `http` event answered through the API route.

let env: TestPlatform;
let sandbox: ClientSandbox;
let serverlessBin: string;
const project = mkdtempSync(join(tmpdir(), 'skywhisk-serverless-'));
/** A serverless command; each one must have reached nothing beyond loopback. */
async function serverless(...args: string[]): Promise<ClientRun> {
  const run = await sandbox.run(serverlessBin, args, project);
  expect(sandbox.blockedConnections()).toEqual([]);
  return run;
}

const SERVERLESS_YML = `service: shop
frameworkVersion: '3'
provider:
  name: openwhisk
  runtime: nodejs:20
functions:
  hello:
    handler: handler.hello
    events:
      - http: GET /greet/hello
  order:
    handler: handler.order
    events:
      - http:
          method: POST
          path: /greet/orders/{id}
          resp: http
plugins:
  - serverless-openwhisk
`;

const HANDLER = `'use strict';
exports.hello = (params) => {
  console.log('hello called for ' + (params.name || 'nobody'));
  return { payload: 'Hello, ' + (params.name || 'World') + '!' };
};
// As in OpenWhisk, a route's path parameters reach the action only in its path.
exports.order = (params) => {
  const id = params.__ow_path.split('/').pop();
  return { statusCode: 201, headers: { 'x-order': id }, body: { path: params.__ow_path, item: params.item } };
};
`;

beforeAll(async () => {
  const clients = await installedClient('serverless');
  serverlessBin = join(clients, 'node_modules/serverless/bin/serverless.js');
  env = await startTestPlatform();
  sandbox = new ClientSandbox({
    OW_APIHOST: env.platform.apiHost,
    OW_AUTH: env.platform.auth,
    OW_NAMESPACE: 'guest',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    SLS_DEPRECATION_DISABLE: '*',
    CI: 'true',
  });
  writeFileSync(join(project, 'serverless.yml'), SERVERLESS_YML);
  writeFileSync(join(project, 'handler.js'), HANDLER);
  // As in a real project the framework and plugin are dev dependencies, which the framework
  // leaves out of the zip it uploads.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'shop', private: true, devDependencies: { serverless: '3.40.0', 'serverless-openwhisk': '0.18.4' } }));
  symlinkSync(join(clients, 'node_modules'), join(project, 'node_modules'));
}, 900_000);

afterAll(async () => {
  await env?.stop();
});

test('serverless deploy uploads the zipped functions and reports the http endpoints', async () => {
  const deployed = await serverless('deploy');
  expect(deployed.stderr).not.toContain('Error');
  expect(deployed.code).toBe(0);
  expect(deployed.stdout).toContain(`GET ${env.platform.apiHost}/api/guest/greet/hello --> shop-dev-hello`);
  expect(deployed.stdout).toContain(`POST ${env.platform.apiHost}/api/guest/greet/orders/{id} --> shop-dev-order`);
  const action = await env.wsk().actions.get({ name: 'shop-dev-hello' });
  expect(action.exec).toMatchObject({ kind: 'nodejs:20', binary: true });
}, 300_000);

test('the http events answer through their routes, with the path parameter and the http response', async () => {
  const hello = await fetch(`${env.platform.apiHost}/api/guest/greet/hello?name=Ada`);
  expect(hello.status).toBe(200);
  expect(await hello.json()).toEqual({ payload: 'Hello, Ada!' });

  const order = await fetch(`${env.platform.apiHost}/api/guest/greet/orders/42`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ item: 'tea' }),
  });
  expect(order.status).toBe(201);
  expect(order.headers.get('x-order')).toBe('42');
  expect(await order.json()).toEqual({ path: '/greet/orders/42', item: 'tea' });

  // A verb the event did not declare has no route.
  expect((await fetch(`${env.platform.apiHost}/api/guest/greet/hello`, { method: 'DELETE' })).status).toBe(404);
});

test('serverless invoke returns the result and serverless logs shows what the function printed', async () => {
  const invoked = await serverless('invoke', '-f', 'hello', '-d', JSON.stringify({ name: 'Bob' }));
  expect(invoked.code).toBe(0);
  expect(JSON.parse(invoked.stdout.slice(invoked.stdout.indexOf('{')))).toEqual({ payload: 'Hello, Bob!' });

  const logs = await serverless('logs', '-f', 'hello');
  expect(logs.code).toBe(0);
  expect(logs.stdout).toContain('hello called for Bob');
}, 120_000);

test('serverless info lists the functions and endpoints it deployed', async () => {
  const info = await serverless('info');
  expect(info.code).toBe(0);
  const actions = /actions:\s*\n(.*)\n/.exec(info.stdout)?.[1].trim().split(/\s+/);
  expect(actions?.sort()).toEqual(['shop-dev-hello', 'shop-dev-order']);
  expect(info.stdout).toContain(`GET ${env.platform.apiHost}/api/guest/greet/hello --> shop-dev-hello`);
}, 120_000);

test('serverless remove takes the functions and their routes away', async () => {
  const removed = await serverless('remove');
  expect(removed.code).toBe(0);
  expect((await fetch(`${env.platform.apiHost}/api/guest/greet/hello`)).status).toBe(404);
  await expect(env.wsk().actions.get({ name: 'shop-dev-hello' })).rejects.toMatchObject({ statusCode: 404 });
  const listed = (await env.wsk().routes.list()) as unknown as { apis: unknown[] };
  expect(listed.apis).toEqual([]);
}, 120_000);

test('nothing the framework started reached beyond loopback after its commands ended either', () => {
  expect(sandbox.blockedConnections()).toEqual([]);
});
