import { dumpStore, basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { expectSameJson, tricky, TRICKY_TEXT } from '../helpers/tricky-json';

// Whatever JSON a user sends is stored and returned exactly as sent: keys that name Object
// builtins (`constructor`, `__proto__`, `toString`, ...) at any depth, inside arrays too, in invoke
// parameters, results, entity parameters and trigger payloads. And a body nested too deeply is a
// 400 on every path, web actions included.

let env: TestPlatform;

async function api(method: string, path: string, body?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/${path}`, {
    method,
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const ECHO = 'function main(params) { return params; }';
const trickyParameters = () => [
  { key: 'constructor', value: tricky() },
  { key: '__proto__', value: { polluted: true } },
  { key: 'toString', value: ['x', { hasOwnProperty: 'y' }] },
  { key: 'plain', value: tricky() },
];

async function waitForActivation(id: string): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await api('GET', `namespaces/_/activations/${id}`);
    if (found.status === 200) return found.body;
    if (Date.now() > deadline) throw new Error(`no activation ${id}: ${found.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  env = await startTestPlatform();
  const created = await api('PUT', 'namespaces/_/actions/echo', JSON.stringify({ exec: { kind: 'nodejs:20', code: ECHO } }));
  if (created.status !== 200) throw new Error(`create echo: ${created.status} ${JSON.stringify(created.body)}`);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

test('an invoke with constructor and __proto__ params returns them in the result and in the stored record', async () => {
  const invoked = await api('POST', 'namespaces/_/actions/echo?blocking=true&result=true', TRICKY_TEXT);
  expect(invoked.status).toBe(200);
  expectSameJson(invoked.body, tricky());

  const full = await api('POST', 'namespaces/_/actions/echo?blocking=true', TRICKY_TEXT);
  expect(full.status).toBe(200);
  const stored = await waitForActivation(full.body.activationId);
  expectSameJson(stored.response.result, tricky());
});

test('an action returning constructor keys (not sent by the caller) gets its result stored', async () => {
  const code = 'function main() { return { constructor: "Ford", toString: "t", list: [{ constructor: { name: "Set" } }] }; }';
  expect((await api('PUT', 'namespaces/_/actions/maker', JSON.stringify({ exec: { kind: 'nodejs:20', code } }))).status).toBe(200);
  const invoked = await api('POST', 'namespaces/_/actions/maker?blocking=true', '{}');
  expect(invoked.status).toBe(200);
  const stored = await waitForActivation(invoked.body.activationId);
  expect(stored.response.result).toEqual({ constructor: 'Ford', toString: 't', list: [{ constructor: { name: 'Set' } }] });
});

test('action, package and trigger parameters and annotations named constructor or __proto__ come back on GET as sent', async () => {
  const parameters = trickyParameters();
  const annotations = [{ key: 'constructor', value: tricky() }];
  const bodies: Record<string, unknown> = {
    'actions/tricky-action': { exec: { kind: 'nodejs:20', code: ECHO }, parameters, annotations },
    'packages/tricky-pkg': { parameters, annotations },
    'triggers/tricky-trigger': { parameters, annotations },
  };
  for (const [path, body] of Object.entries(bodies)) {
    const put = await api('PUT', `namespaces/_/${path}`, JSON.stringify(body));
    expect({ path, status: put.status }).toEqual({ path, status: 200 });
    expectSameJson(put.body.parameters, parameters);
    const got = await api('GET', `namespaces/_/${path}`);
    expect(got.status).toBe(200);
    expectSameJson(got.body.parameters, parameters);
    expectSameJson(got.body.annotations.filter((a: { key: string }) => a.key === 'constructor'), annotations);
  }

  // Bound parameters reach the action under the payload, `__proto__` included.
  const invoked = await api('POST', 'namespaces/_/actions/tricky-action?blocking=true&result=true', '{"plain":"from the payload"}');
  expect(invoked.status).toBe(200);
  expectSameJson(invoked.body, JSON.parse(`{"constructor":${TRICKY_TEXT},"__proto__":{"polluted":true},"toString":["x",{"hasOwnProperty":"y"}],"plain":"from the payload"}`));
});

test("a trigger fire payload with constructor and __proto__ keys reaches the rule's action and the trigger's record", async () => {
  expect((await api('PUT', 'namespaces/_/triggers/tricky-fire', '{}')).status).toBe(200);
  expect((await api('PUT', 'namespaces/_/rules/tricky-rule', JSON.stringify({ trigger: '/_/tricky-fire', action: '/_/echo' }))).status).toBe(200);

  const fired = await api('POST', 'namespaces/_/triggers/tricky-fire', TRICKY_TEXT);
  expect(fired.status).toBe(202);
  const triggerRecord = await waitForActivation(fired.body.activationId);
  expectSameJson(triggerRecord.response.result, tricky());
  const [line] = triggerRecord.logs.map((l: string) => JSON.parse(l));
  expect(line).toMatchObject({ success: true, rule: 'guest/tricky-rule' });
  const actionRecord = await waitForActivation(line.activationId);
  expect(actionRecord.response.success).toBe(true);
  expectSameJson(actionRecord.response.result, tricky());
});

test('after all that, the controller behaves normally: no prototype was polluted', async () => {
  const invoked = await api('POST', 'namespaces/_/actions/echo?blocking=true&result=true', '{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2}}}');
  expect(invoked.status).toBe(200);
  const plain = await api('POST', 'namespaces/_/actions/echo?blocking=true&result=true', '{}');
  expect(plain).toMatchObject({ status: 200, body: {} });
  expect(Object.keys(plain.body)).toEqual([]);
  const listed = await api('GET', 'namespaces/_/actions?limit=1');
  expect(listed.status).toBe(200);
  expect(listed.body).toHaveLength(1);
  expect(Object.keys(listed.body[0]).sort()).toEqual(['annotations', 'exec', 'limits', 'name', 'namespace', 'publish', 'updated', 'version']);
  // An unknown route is still a 404 (a polluted prototype would turn up as a property here).
  const missing = await api('GET', 'namespaces/_/actions/not-there');
  expect(missing.status).toBe(404);
  expect(Object.keys(missing.body).sort()).toEqual(['code', 'error']);
});

test('a web action request body nested 200,000 levels deep is a 400 {error, code}, and nothing is written', async () => {
  const put = await api('PUT', 'namespaces/_/actions/show', JSON.stringify({ exec: { kind: 'nodejs:20', code: ECHO }, annotations: [{ key: 'web-export', value: true }] }));
  expect(put.status).toBe(200);
  const deepArray = '['.repeat(200_000) + ']'.repeat(200_000);
  // Under the 1 MB body limit: the depth alone is what is wrong.
  const deepObject = '{"":'.repeat(200_000) + '1' + '}'.repeat(200_000);
  const before = await dumpStore(env.clients);
  for (const [path, contentType, body] of [
    ['show.json', 'application/json', deepArray],
    ['show.json', 'application/json', deepObject],
    ['show.http', 'application/vnd.api+json', deepObject],
    ['show', 'application/problem+json; charset=utf-8', `{"a":${deepArray}}`],
  ]) {
    const response = await fetch(`${env.platform.apiHost}/api/v1/web/guest/default/${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const answer = (await response.json()) as Record<string, unknown>;
    expect({ path, contentType, status: response.status }).toEqual({ path, contentType, status: 400 });
    expect(answer).toEqual({ error: expect.stringMatching(/nested/), code: expect.any(String) });
  }
  // The REST paths give the same 400: an invoke and a trigger fire.
  for (const path of ['namespaces/_/actions/echo?blocking=true', 'namespaces/_/triggers/tricky-fire']) {
    const answer = await api('POST', path, deepObject);
    expect({ path, status: answer.status }).toEqual({ path, status: 400 });
    expect(answer.body).toEqual({ error: expect.stringMatching(/nests more than 100 levels/), code: expect.any(String) });
  }
  expect(await dumpStore(env.clients)).toEqual(before);
});

test('a web action body nested just within the limit runs', async () => {
  const body = '{"a":'.repeat(99) + '1' + '}'.repeat(99);
  const response = await fetch(`${env.platform.apiHost}/api/v1/web/guest/default/show.json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(response.status).toBe(200);
  const result = (await response.json()) as { a: unknown };
  expect(JSON.stringify(result.a)).toBe(JSON.stringify(JSON.parse(body).a));
});
