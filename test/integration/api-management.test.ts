import { basicAuthHeader, clientForNewNamespace, startTestPlatform, type TestPlatform } from '../helpers/platform';

// API management as migrating users drive it: the `openwhisk` client's routes API and `wsk api`'s
// requests to /whisk.system/apimgmt, answered with OpenWhisk's shapes, and the routes they create
// served at /api/<namespace>/<basePath>/<relPath> by the web actions behind them.

let env: TestPlatform;
let host: string;

const GREET = `function main(params) { return { greeting: 'hello ' + (params.name || 'world'), method: params.__ow_method }; }`;
const PATH = `function main(params) { return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'path ' + params.__ow_path }; }`;

async function webAction(name: string, code: string, annotations: Record<string, unknown> = {}): Promise<void> {
  await env.wsk().actions.create({
    name,
    action: { exec: { kind: 'nodejs:default', code }, annotations: Object.entries({ 'web-export': true, ...annotations }).map(([key, value]) => ({ key, value })) },
  });
}

/** The client's routes API as it behaves (its typings lack get, names, secure keys and swagger). */
interface RoutesApi {
  create(options: Record<string, unknown>): Promise<unknown>;
  get(options: Record<string, unknown>): Promise<unknown>;
  list(options?: Record<string, unknown>): Promise<unknown>;
  delete(options: Record<string, unknown>): Promise<unknown>;
}
const routes = () => env.wsk().routes as unknown as RoutesApi;
const apimgmt = (operation: string, query: Record<string, string> = {}) => `${host}/api/v1/web/whisk.system/apimgmt/${operation}?${new URLSearchParams(query)}`;
const authorized = () => ({ authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' });

beforeAll(async () => {
  env = await startTestPlatform();
  host = env.platform.apiHost;
  await webAction('greet', GREET);
  await webAction('path', PATH);
  await webAction('guarded', GREET, { 'require-whisk-auth': 'let-me-in' });
  await env.wsk().actions.create({ name: 'not-web', action: GREET });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

test("the openwhisk client's routes: create answers the API with its URL, and the route runs the action", async () => {
  const created = (await routes().create({ basepath: '/shop', relpath: '/hello', operation: 'GET', action: 'greet' })) as {
    gwApiUrl: string;
    gwApiActivated: boolean;
    apidoc: { basePath: string; info: { title: string }; paths: Record<string, Record<string, { operationId: string; 'x-openwhisk': Record<string, string> }>> };
  };
  expect(created.gwApiActivated).toBe(true);
  expect(created.gwApiUrl).toBe(`${host}/api/guest/shop`);
  expect(created.apidoc.basePath).toBe('/shop');
  expect(created.apidoc.info.title).toBe('/shop');
  expect(created.apidoc.paths['/hello'].get.operationId).toBe('getHello');
  expect(created.apidoc.paths['/hello'].get['x-openwhisk']).toEqual({ namespace: 'guest', package: '', action: 'greet', url: `${host}/api/v1/web/guest/default/greet.json` });

  // No credentials: an API route is public, as the web action behind it.
  const answer = await fetch(`${created.gwApiUrl}/hello?name=shopper`);
  expect(answer.status).toBe(200);
  expect(await answer.json()).toEqual({ greeting: 'hello shopper', method: 'get' });
});

test('routes accumulate under one base path and list, get and delete as the clients expect', async () => {
  await routes().create({ basepath: '/pets', relpath: '/cats', operation: 'GET', action: 'greet', name: 'Pet store' });
  await routes().create({ basepath: '/pets', relpath: '/cats', operation: 'POST', action: 'greet' });
  await routes().create({ basepath: '/pets', relpath: '/dogs', operation: 'GET', action: 'greet' });
  const got = (await routes().get({ basepath: '/pets' })) as { apis: Array<{ id: string; value: { gwApiUrl: string; apidoc: { info: { title: string }; paths: Record<string, object> } } }> };
  expect(got.apis).toHaveLength(1);
  expect(got.apis[0].value.apidoc.info.title).toBe('Pet store');
  expect(Object.keys(got.apis[0].value.apidoc.paths).sort()).toEqual(['/cats', '/dogs']);
  expect(Object.keys(got.apis[0].value.apidoc.paths['/cats']).sort()).toEqual(['get', 'post']);

  const posted = await fetch(`${host}/api/guest/pets/cats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'tom' }) });
  expect(await posted.json()).toEqual({ greeting: 'hello tom', method: 'post' });
  // A verb the route does not have, and a path no route has, are 404s.
  expect((await fetch(`${host}/api/guest/pets/dogs`, { method: 'DELETE' })).status).toBe(404);
  expect((await fetch(`${host}/api/guest/pets/birds`)).status).toBe(404);

  const listed = (await routes().list()) as { apis: Array<{ value: { apidoc: { basePath: string } } }> };
  expect(listed.apis.map((a) => a.value.apidoc.basePath)).toEqual(expect.arrayContaining(['/pets', '/shop']));

  await routes().delete({ basepath: '/pets', relpath: '/cats', operation: 'POST' });
  expect((await fetch(`${host}/api/guest/pets/cats`, { method: 'POST' })).status).toBe(404);
  expect((await fetch(`${host}/api/guest/pets/cats`)).status).toBe(200);
  await routes().delete({ basepath: '/pets', relpath: '/cats' });
  expect((await fetch(`${host}/api/guest/pets/cats`)).status).toBe(404);
  await routes().delete({ basepath: '/pets' });
  expect((await fetch(`${host}/api/guest/pets/dogs`)).status).toBe(404);
  const after = (await routes().get({ basepath: '/pets' })) as { apis: unknown[] };
  expect(after.apis).toEqual([]);
});

test('options the openwhisk client sends as the word "undefined" are absent, as aio rt api list and delete need', async () => {
  await routes().create({ basepath: '/words', relpath: '/a', operation: 'GET', action: 'greet' });
  await routes().create({ basepath: '/words', relpath: '/b', operation: 'GET', action: 'greet' });
  // `aio rt api list` passes every option it has, set or not; the client writes undefined ones out.
  const unset = { basepath: 'undefined', relpath: 'undefined', operation: 'undefined', limit: 'undefined', skip: 'undefined' };
  const listed = (await (await fetch(apimgmt('getApi', unset), { headers: authorized() })).json()) as { apis: Array<{ value: { apidoc: { basePath: string } } }> };
  expect(listed.apis.map((a) => a.value.apidoc.basePath)).toContain('/words');
  // `aio rt api delete /words` deletes the whole API, not a relative path called "undefined".
  const deleted = await fetch(apimgmt('deleteApi', { basepath: '/words', relpath: 'undefined', operation: 'undefined' }), { method: 'DELETE', headers: authorized() });
  expect(deleted.status).toBe(200);
  expect(((await routes().get({ basepath: '/words' })) as { apis: unknown[] }).apis).toEqual([]);

  // An API someone named "undefined" is still found by its name.
  await routes().create({ basepath: '/named', relpath: '/a', operation: 'GET', action: 'greet', name: 'undefined' });
  await routes().create({ basepath: '/other', relpath: '/a', operation: 'GET', action: 'greet' });
  const byName = (await (await fetch(apimgmt('getApi', { basepath: 'undefined' }), { headers: authorized() })).json()) as { apis: Array<{ value: { apidoc: { basePath: string } } }> };
  expect(byName.apis.map((a) => a.value.apidoc.basePath)).toEqual(['/named']);
  // ...while aio rt api list in that namespace still lists every API.
  const all = (await (await fetch(apimgmt('getApi', unset), { headers: authorized() })).json()) as { apis: Array<{ value: { apidoc: { basePath: string } } }> };
  expect(all.apis.map((a) => a.value.apidoc.basePath)).toEqual(expect.arrayContaining(['/named', '/other']));
  await routes().delete({ basepath: 'undefined' });
  expect(((await routes().get({ basepath: '/named' })) as { apis: unknown[] }).apis).toEqual([]);
  await routes().delete({ basepath: '/other' });
});

test("wsk api create's request: path parameters reach an .http action in __ow_path", async () => {
  const apidoc = {
    namespace: '_',
    gatewayBasePath: '/club',
    gatewayPath: '/books/{isbn}',
    gatewayMethod: 'GET',
    id: 'API:_:/club',
    action: { name: 'path', namespace: '_', backendMethod: 'GET', backendUrl: `${host}/api/v1/web/_/default/path.http`, authkey: env.platform.auth },
    pathParameters: [{ name: 'isbn', in: 'path', description: "Default description for 'isbn'", required: true, type: 'string' }],
  };
  const response = await fetch(apimgmt('createApi.http', { accesstoken: 'DUMMY TOKEN', responsetype: 'http', spaceguid: env.platform.auth.split(':')[0] }), {
    method: 'POST',
    headers: authorized(),
    body: JSON.stringify({ apidoc }),
  });
  expect(response.status).toBe(200);
  const created = (await response.json()) as { gwApiUrl: string; apidoc: { paths: Record<string, Record<string, { operationId: string; parameters: unknown[] }>> } };
  expect(created.apidoc.paths['/books/{isbn}'].get.operationId).toBe('getBooksIsbn');
  expect(created.apidoc.paths['/books/{isbn}'].get.parameters).toEqual(apidoc.pathParameters);
  const book = await fetch(`${created.gwApiUrl}/books/978-0596517748`);
  expect(book.status).toBe(200);
  expect(await book.text()).toBe('path /club/books/978-0596517748');
});

test.each([
  ['path parameters with a json response type', { responsetype: 'json' }, { gatewayPath: '/items/{id}' }, "The action must use a response type of '.http' in order to receive the path parameters."],
  ['no apidoc', {}, null, 'apidoc is required.'],
  ['an apidoc without its action', {}, { action: undefined }, 'apidoc is missing the action field.'],
  ['an apidoc without a relative path', {}, { gatewayPath: undefined }, 'apidoc is missing the gatewayPath field'],
  ['an apidoc that is not JSON', {}, 'not json', 'apidoc field cannot be parsed. Ensure it is valid JSON.'],
] as const)('createApi refuses %s with a 502 error and stores nothing', async (_title, query, change, message) => {
  const before = ((await routes().list()) as { apis: unknown[] }).apis.length;
  const base = { namespace: '_', gatewayBasePath: '/bad', gatewayPath: '/x', gatewayMethod: 'GET', action: { name: 'path', namespace: '_', backendMethod: 'GET', backendUrl: `${host}/api/v1/web/_/default/path.http`, authkey: 'k' } };
  const apidoc = change === null ? undefined : typeof change === 'string' ? change : { ...base, ...change };
  const response = await fetch(apimgmt('createApi', query), { method: 'POST', headers: authorized(), body: JSON.stringify(apidoc === undefined ? {} : { apidoc }) });
  expect(response.status).toBe(502);
  expect(await response.json()).toEqual({ error: message });
  expect(((await routes().list()) as { apis: unknown[] }).apis.length).toBe(before);
});

test('without credentials apimgmt answers as OpenWhisk does and nothing changes', async () => {
  const create = await fetch(apimgmt('createApi'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apidoc: { namespace: 'guest' } }) });
  expect(create.status).toBe(502);
  expect(await create.json()).toEqual({ error: 'A valid auth key is required.' });
  const list = await fetch(apimgmt('getApi'));
  expect(await list.json()).toEqual({ error: 'Invalid authentication.' });
  const wrongKey = await fetch(apimgmt('deleteApi', { basepath: '/shop' }), { method: 'DELETE', headers: { authorization: basicAuthHeader(`${env.platform.auth.split(':')[0]}:wrong`) } });
  expect(wrongKey.status).toBe(502);
  expect((await fetch(`${host}/api/guest/shop/hello`)).status).toBe(200);
});

test('reserved __ow_ arguments are refused', async () => {
  const response = await fetch(apimgmt('getApi', { __ow_user: 'someone-else' }), { headers: authorized() });
  expect(response.status).toBe(400);
});

test('deleting what is not there says so', async () => {
  const response = await fetch(apimgmt('deleteApi', { basepath: '/nope' }), { method: 'DELETE', headers: authorized() });
  expect(response.status).toBe(502);
  expect(await response.json()).toEqual({ error: "API deletion failure: API '/nope' does not exist." });
  const path = await fetch(apimgmt('deleteApi', { basepath: '/shop', relpath: '/none' }), { method: 'DELETE', headers: authorized() });
  expect(await path.json()).toEqual({ error: "API deletion failure: path '/none' does not exist in the API" });
});

test("a route sends the action's require-whisk-auth secret only when its creator gave the right one", async () => {
  await routes().create({ basepath: '/vault', relpath: '/open', operation: 'GET', action: 'guarded', secure_key: 'let-me-in' });
  await routes().create({ basepath: '/vault', relpath: '/guess', operation: 'GET', action: 'guarded', secure_key: 'a-guess' });
  await routes().create({ basepath: '/vault', relpath: '/bare', operation: 'GET', action: 'guarded' });
  expect((await fetch(`${host}/api/guest/vault/open`)).status).toBe(200);
  expect((await fetch(`${host}/api/guest/vault/guess`)).status).toBe(401);
  expect((await fetch(`${host}/api/guest/vault/bare`)).status).toBe(401);
  // Without a secret of its own, the route passes on the caller's header, as the gateway does.
  expect((await fetch(`${host}/api/guest/vault/bare`, { headers: { 'x-require-whisk-auth': 'let-me-in' } })).status).toBe(200);
  // A route's secret is not a way around another route's: the header is set per route.
  expect((await fetch(`${host}/api/guest/vault/guess`, { headers: { 'x-require-whisk-auth': 'let-me-in' } })).status).toBe(401);
});

test('a route to an action that is not a web action is a 404, and an unknown namespace too', async () => {
  await routes().create({ basepath: '/hidden', relpath: '/x', operation: 'GET', action: 'not-web' });
  expect((await fetch(`${host}/api/guest/hidden/x`)).status).toBe(404);
  expect((await fetch(`${host}/api/nobody/hidden/x`)).status).toBe(404);
});

test('a swagger document imported with --config-file replaces the API of its base path', async () => {
  const swagger = {
    swagger: '2.0',
    info: { title: 'Imported', version: '1.0.0' },
    basePath: '/imported',
    paths: { '/hi': { get: { operationId: 'getHi', 'x-openwhisk': { namespace: 'guest', package: '', action: 'greet', url: `${host}/api/v1/web/guest/default/greet.json` }, responses: { default: { description: 'Default response' } } } } },
  };
  const created = (await routes().create({ swagger: JSON.stringify(swagger) })) as { gwApiUrl: string; apidoc: { info: { title: string } } };
  expect(created.apidoc.info.title).toBe('Imported');
  expect(await (await fetch(`${created.gwApiUrl}/hi?name=import`)).json()).toEqual({ greeting: 'hello import', method: 'get' });
  const bad = await fetch(apimgmt('createApi'), { method: 'POST', headers: authorized(), body: JSON.stringify({ apidoc: { namespace: '_', swagger: JSON.stringify({ ...swagger, basePath: undefined }) } }) });
  expect(await bad.json()).toEqual({ error: 'swagger is missing the basePath field.' });
});

test('prototype names in a delete change nothing and the controller keeps serving', async () => {
  const queries: Array<Record<string, string>> = [
    { basepath: '/shop', relpath: 'constructor', operation: 'keys' },
    { basepath: '/shop', relpath: '__proto__', operation: 'constructor' },
    { basepath: '/shop', relpath: 'constructor' },
  ];
  for (const query of queries) {
    const response = await fetch(apimgmt('deleteApi', query), { method: 'DELETE', headers: authorized() });
    expect(response.status).toBe(502);
  }
  expect((await routes().get({ basepath: '/shop' })) as { apis: unknown[] }).toMatchObject({ apis: [expect.anything()] });
  expect((await fetch(`${host}/api/guest/shop/hello`)).status).toBe(200);
});

test('a route path that is not percent-encoding is a 404, not a failure', async () => {
  for (const path of ['%E0%A4', '%', '%zz', 'shop/%E0%A4']) expect((await fetch(`${host}/api/guest/${path}`)).status).toBe(404);
});

test('base paths are one API whatever slashes the client sends', async () => {
  await routes().create({ basepath: 'slashy/', relpath: 'x', operation: 'GET', action: 'greet' });
  const got = (await routes().get({ basepath: '/slashy' })) as { apis: Array<{ value: { gwApiUrl: string; apidoc: { basePath: string; paths: object } } }> };
  expect(got.apis[0].value.apidoc.basePath).toBe('/slashy');
  expect(Object.keys(got.apis[0].value.apidoc.paths)).toEqual(['/x']);
  expect((await fetch(`${host}/api/guest/slashy/x`)).status).toBe(200);
});

test('an imported document whose targets are not web action URLs is refused', async () => {
  const swagger = {
    swagger: '2.0',
    info: { title: 'Bad', version: '1.0.0' },
    basePath: '/badimport',
    paths: { '/x': { get: { operationId: 'getX', 'x-openwhisk': { namespace: 'guest', package: '', action: 'greet', url: `${host}/api/v1/web/guest/default/greet.xml` }, responses: {} } } },
  };
  const response = await fetch(apimgmt('createApi'), { method: 'POST', headers: authorized(), body: JSON.stringify({ apidoc: { namespace: '_', swagger: JSON.stringify(swagger) } }) });
  expect(response.status).toBe(502);
  expect(((await response.json()) as { error: string }).error).toContain('x-openwhisk url of a web action');
  expect((await fetch(`${host}/api/guest/badimport/x`)).status).toBe(404);
});

test('an apidoc nested too deep to serialise again is a 400, as any body is', async () => {
  const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
  const response = await fetch(apimgmt('createApi'), { method: 'POST', headers: authorized(), body: `{"apidoc":${deep}}` });
  expect(response.status).toBe(400);
  expect((await fetch(`${host}/api/guest/shop/hello`)).status).toBe(200);
});

test("another namespace's APIs are its own: same base path, no listing, no deleting, no routes under the guest's URL", async () => {
  await routes().create({ basepath: '/tenants', relpath: '/mine', operation: 'GET', action: 'greet' });
  const other = await clientForNewNamespace(env, 'mallory');
  await other.wsk.actions.create({ name: 'evil', action: { exec: { kind: 'nodejs:default', code: "function main() { return { owner: 'mallory' }; }" }, annotations: [{ key: 'web-export', value: true }] } });
  const theirs = other.wsk.routes as unknown as RoutesApi;

  // The apidoc names the guest's namespace; the key decides whose API it is.
  const forged = await fetch(apimgmt('createApi'), {
    method: 'POST',
    headers: { authorization: basicAuthHeader(other.auth), 'content-type': 'application/json' },
    body: JSON.stringify({ apidoc: { namespace: 'guest', gatewayBasePath: '/tenants', gatewayPath: '/mine', gatewayMethod: 'GET', id: 'API:guest:/tenants', action: { name: 'evil', namespace: 'mallory', backendMethod: 'GET', backendUrl: `${host}/api/v1/web/mallory/default/evil.json`, authkey: other.auth } } }),
  });
  expect(forged.status).toBe(200);
  expect(((await forged.json()) as { gwApiUrl: string }).gwApiUrl).toBe(`${host}/api/mallory/tenants`);
  expect(await (await fetch(`${host}/api/guest/tenants/mine?name=ann`)).json()).toMatchObject({ greeting: 'hello ann' });
  expect(await (await fetch(`${host}/api/mallory/tenants/mine`)).json()).toEqual({ owner: 'mallory' });

  const listed = (await theirs.list()) as { apis: Array<{ value: { gwApiUrl: string } }> };
  expect(listed.apis.map((a) => a.value.gwApiUrl)).toEqual([`${host}/api/mallory/tenants`]);
  await theirs.delete({ basepath: '/tenants' });
  expect(await (await fetch(`${host}/api/guest/tenants/mine?name=bo`)).json()).toMatchObject({ greeting: 'hello bo' });
  expect((await fetch(`${host}/api/mallory/tenants/mine`)).status).toBe(404);
  await routes().delete({ basepath: '/tenants' });
});
