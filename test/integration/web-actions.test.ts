import { basicAuthHeader, clientForNewNamespace, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// Web actions over raw HTTP: no platform auth, the result becomes the HTTP response.

let env: TestPlatform;
const SHOW = 'function main(params) { return params; }';

async function webAction(name: string, code: string, annotations: Record<string, unknown>, parameters: Array<{ key: string; value: unknown }> = []): Promise<void> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    method: 'PUT',
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: JSON.stringify({
      exec: { kind: 'nodejs:20', code },
      annotations: Object.entries(annotations).map(([key, value]) => ({ key, value })),
      parameters,
    }),
  });
  if (response.status !== 200) throw new Error(`create ${name}: ${response.status} ${await response.text()}`);
}

function web(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${env.platform.apiHost}/api/v1/web/${path}`, init);
}

beforeAll(async () => {
  env = await startTestPlatform();
  await webAction('show', SHOW, { 'web-export': true });
  await webAction('http', 'function main(p) { return p.response; }', { 'web-export': true });
  await webAction('hidden', SHOW, {});
  await webAction('rawShow', SHOW, { 'web-export': true, 'raw-http': true });
  await webAction('fixed', SHOW, { 'web-export': true, final: true }, [{ key: 'locked', value: 'server' }]);
  await webAction('secret', SHOW, { 'web-export': true, 'require-whisk-auth': 'open-sesame' });
  await webAction('members', SHOW, { 'web-export': true, 'require-whisk-auth': true });
  await webAction('options', "function main(p) { return { statusCode: 200, headers: { 'x-from': 'action' }, body: p.__ow_method }; }", {
    'web-export': true,
    'web-custom-options': true,
  });
  await webAction('crash', 'function main() { throw new Error("no"); }', { 'web-export': true });
  await env.wsk().packages.create({ name: 'site' });
  await env.wsk().actions.create({ name: 'site/page', action: "function main() { return { html: '<h1>site</h1>' }; }", annotations: { 'web-export': true } } as any);
});

afterAll(async () => {
  await env?.stop();
});

test('.json returns the result; the request shows as __ow_method, __ow_headers and __ow_path; body beats query', async () => {
  const response = await web('guest/default/show.json/extra/path?a=query&q=1', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'X-Custom': 'Yes' },
    body: JSON.stringify({ a: 'body', b: 2 }),
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  const body: any = await response.json();
  expect(body).toMatchObject({ a: 'body', b: 2, q: '1', __ow_method: 'post', __ow_path: '/extra/path' });
  expect(body.__ow_headers).toMatchObject({ 'x-custom': 'Yes', 'content-type': 'application/json' });
});

test('the owner pays: the activation is recorded in the action owner namespace, not the caller', async () => {
  const response = await web('guest/default/show.json');
  const activationId = response.headers.get('x-openwhisk-activation-id');
  expect(activationId).toMatch(/^[0-9a-f]{32}$/);
  const record: any = await env.wsk().activations.get({ name: activationId! });
  expect(record).toMatchObject({ namespace: 'guest', name: 'show' });
});

test('.http maps statusCode, headers and body; binary content types are base64-decoded', async () => {
  const call = (response: unknown) => web('guest/default/http.http', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response }) });
  const created = await call({ statusCode: 201, headers: { 'x-made': 'here' }, body: '<p>made</p>' });
  expect(created.status).toBe(201);
  expect(created.headers.get('x-made')).toBe('here');
  expect(created.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await created.text()).toBe('<p>made</p>');

  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
  const image = await call({ headers: { 'content-type': 'image/png' }, body: png.toString('base64') });
  expect(image.status).toBe(200);
  expect(image.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await image.arrayBuffer())).toEqual(png);

  const json = await call({ statusCode: 202, body: { accepted: true } });
  expect(json.status).toBe(202);
  expect(json.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await json.json()).toEqual({ accepted: true });

  const empty = await call({ headers: { 'x-only': 'header' } });
  expect(empty.status).toBe(204);
});

test('.html, .svg and .text project their field; a package action is addressed by its package', async () => {
  const call = (ext: string, response: unknown) => web(`guest/default/http.${ext}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response }) });
  const html = await call('html', { html: '<b>hi</b>' });
  expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([200, expect.stringMatching(/^text\/html/), '<b>hi</b>']);
  const svg = await call('svg', { svg: '<svg/>' });
  expect([svg.status, svg.headers.get('content-type'), await svg.text()]).toEqual([200, expect.stringMatching(/^image\/svg\+xml/), '<svg/>']);
  const text = await call('text', { text: 'plain words' });
  expect([text.status, text.headers.get('content-type'), await text.text()]).toEqual([200, expect.stringMatching(/^text\/plain/), 'plain words']);
  const page = await web('guest/site/page.html');
  expect(await page.text()).toBe('<h1>site</h1>');
});

test('raw-http hands the action the raw query and body', async () => {
  const response = await web('guest/default/rawShow.json?x=1&y=two', { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'just text' });
  const body: any = await response.json();
  expect(body).toMatchObject({ __ow_method: 'put', __ow_query: 'x=1&y=two', __ow_body: 'just text' });
  expect(body.x).toBeUndefined();
});

test('reserved and final parameters cannot be set from the request', async () => {
  const reserved = await web('guest/default/show.json?__ow_method=fake');
  expect(reserved.status).toBe(400);
  expect(((await reserved.json()) as any).error).toBe('Request defines parameters that are not allowed (e.g., reserved properties).');
  const final = await web('guest/default/fixed.json?locked=client');
  expect(final.status).toBe(400);
  const ok = await web('guest/default/fixed.json?other=1');
  expect((await ok.json()) as any).toMatchObject({ locked: 'server', other: '1' });
});

test('only web-exported actions of a real namespace answer; errors keep OpenWhisk shapes', async () => {
  const before = await dumpStore(env.clients);
  for (const path of ['guest/default/hidden.json', 'guest/default/missing.json', 'nobody/default/show.json', 'guest/nopkg/show.json', 'guest/default']) {
    const response = await web(path);
    expect([path, response.status]).toEqual([path, 404]);
    expect(await response.json()).toMatchObject({ error: 'The requested resource does not exist.', code: expect.any(String) });
  }
  expect(await dumpStore(env.clients)).toEqual(before);
  const crashed = await web('guest/default/crash.json');
  expect(crashed.status).toBe(400);
  expect(((await crashed.json()) as any).error).toBe('There was an error processing your request.');
});

test('require-whisk-auth: a secret header, or valid credentials (which set __ow_user)', async () => {
  const refused = await web('guest/default/secret.json');
  expect(refused.status).toBe(401);
  expect(refused.headers.get('access-control-allow-origin')).toBe('*');
  expect(((await refused.json()) as any).error).toBe('Authentication is possible but has failed or not yet been provided.');
  expect((await web('guest/default/secret.json', { headers: { 'x-require-whisk-auth': 'wrong' } })).status).toBe(401);
  expect((await web('guest/default/secret.json', { headers: { 'x-require-whisk-auth': 'open-sesame' } })).status).toBe(200);

  expect((await web('guest/default/members.json')).status).toBe(401);
  const alice = await clientForNewNamespace(env, 'alice');
  const member = await web('guest/default/members.json', { headers: { authorization: basicAuthHeader(alice.auth) } });
  expect(member.status).toBe(200);
  expect(((await member.json()) as any).__ow_user).toBe('alice');
});

test('OPTIONS: default CORS answer, or the action itself with web-custom-options', async () => {
  const preflight = await web('guest/default/show.json', { method: 'OPTIONS', headers: { 'access-control-request-headers': 'x-token' } });
  expect(preflight.status).toBe(200);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  expect(preflight.headers.get('access-control-allow-methods')).toMatch(/OPTIONS.*PATCH|PATCH.*OPTIONS/);
  expect(preflight.headers.get('access-control-allow-headers')).toBe('x-token');

  const custom = await web('guest/default/options.http', { method: 'OPTIONS' });
  expect(custom.status).toBe(200);
  expect(custom.headers.get('x-from')).toBe('action');
  expect(await custom.text()).toBe('options');
});

test('a malformed JSON body is a 400 before the action runs', async () => {
  const response = await web('guest/default/show.json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": ' });
  expect(response.status).toBe(400);
  expect(response.headers.get('x-openwhisk-activation-id')).toBeNull();
  expect(((await response.json()) as any).error).toMatch(/^The request content was malformed/);
});

test("a published package's web actions answer through another namespace's binding, run as that namespace", async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'public', package: { publish: true } });
  await ow.actions.create({ name: 'public/who', action: 'function main(p) { return { ns: process.env.__OW_NAMESPACE, p: p.p }; }', annotations: { 'web-export': true } } as any);
  const bob = await clientForNewNamespace(env, 'bob');
  await bob.wsk.packages.create({ name: 'mine', package: { binding: { namespace: 'guest', name: 'public' }, parameters: [{ key: 'p', value: 'bound' }] } });
  const response = await web('bob/mine/who.json');
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ ns: 'bob', p: 'bound' });
});
