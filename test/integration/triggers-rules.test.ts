import { waitForRecord } from '../../lib/bus/result-waiter';
import { ActivationsRepository } from '../../lib/store/activations';
import { configFromEnv } from '../../lib/config';
import { basicAuthHeader, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// Triggers, rules and fires through the `openwhisk` npm client.

let env: TestPlatform;
const ECHO = 'function main(params) { return params; }';

beforeAll(async () => {
  env = await startTestPlatform();
  const ow = env.wsk();
  await ow.actions.create({ name: 'echo', action: ECHO });
  await ow.packages.create({ name: 'lib' });
  await ow.actions.create({ name: 'lib/tag', action: "function main(params) { return { ...params, tagged: true }; }" });
  await ow.actions.create({ name: 'pipeline', action: { exec: { kind: 'sequence', components: ['/guest/echo', '/guest/lib/tag'] } } } as any);
});

afterAll(async () => {
  await env?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/${path}`, {
    method,
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = response.headers.get('content-type')?.startsWith('application/json');
  return { status: response.status, headers: response.headers, body: text && json ? JSON.parse(text) : text || undefined };
}

function record(activationId: string) {
  const activations = new ActivationsRepository(env.clients.dynamo, configFromEnv({}).tables.activations, 1);
  return waitForRecord(activations, 'guest', activationId, 30_000).then((r) => {
    if (!r) throw new Error(`no record for ${activationId}`);
    return r;
  });
}

const COORDINATION = configFromEnv({}).tables.coordination;

test('a trigger with no active rule answers 204 and records nothing (the fire still counts against fires per minute)', async () => {
  await env.wsk().triggers.create({ name: 'lonely' });
  const { [COORDINATION]: countsBefore, ...before } = await dumpStore(env.clients);
  const fired = await api('POST', 'namespaces/_/triggers/lonely', { x: 1 });
  expect(fired.status).toBe(204);
  expect(fired.headers.get('x-openwhisk-activation-id')).toBeNull();
  const { [COORDINATION]: countsAfter, ...after } = await dumpStore(env.clients);
  expect(after).toEqual(before);
  const fireCounts = (dump: unknown) => (dump as string[]).filter((item) => item.includes('"sk":"fires#'));
  expect(fireCounts(countsAfter).join()).not.toEqual(fireCounts(countsBefore).join());
});

test('a fire fans out to every active rule, with the trigger parameters under the payload, and records each outcome', async () => {
  const ow = env.wsk();
  await ow.triggers.create({ name: 'orders', trigger: { parameters: [{ key: 'source', value: 'trigger' }, { key: 'kind', value: 'default' }] } } as any);
  await ow.rules.create({ name: 'toEcho', trigger: 'orders', action: 'echo' });
  await ow.rules.create({ name: 'toTag', trigger: '/guest/orders', action: '/guest/lib/tag' });
  await ow.rules.create({ name: 'toPipeline', trigger: 'orders', action: 'pipeline' });
  await ow.rules.create({ name: 'sleeping', trigger: 'orders', action: 'echo' });
  await ow.rules.disable({ name: 'sleeping' });

  const fired = await api('POST', 'namespaces/_/triggers/orders', { kind: 'payload', order: 7 });
  expect(fired.status).toBe(202);
  expect(fired.headers.get('x-openwhisk-activation-id')).toBe(fired.body.activationId);

  const triggerRecord: any = await ow.activations.get({ name: fired.body.activationId });
  // As in OpenWhisk the trigger's record holds the event as posted; its parameters went to the actions.
  expect(triggerRecord).toMatchObject({ name: 'orders', namespace: 'guest', response: { success: true } });
  expect(triggerRecord.response.result).toEqual({ kind: 'payload', order: 7 });
  // As OpenWhisk's trigger records: no annotations, no result size, no end or duration.
  expect(triggerRecord.annotations).toEqual([]);
  expect(triggerRecord.response).not.toHaveProperty('size');
  expect(triggerRecord).not.toHaveProperty('end');
  expect(triggerRecord).not.toHaveProperty('duration');
  const lines = triggerRecord.logs.map((line: string) => JSON.parse(line));
  const byRule = Object.fromEntries(lines.map((l: any) => [l.rule, l]));
  expect(Object.keys(byRule).sort()).toEqual(['guest/sleeping', 'guest/toEcho', 'guest/toPipeline', 'guest/toTag']);
  expect(byRule['guest/sleeping']).toEqual({
    statusCode: 1,
    success: false,
    rule: 'guest/sleeping',
    action: 'guest/echo',
    error: "Rule 'guest/sleeping' is inactive, action 'guest/echo' was not activated.",
  });
  for (const rule of ['guest/toEcho', 'guest/toTag', 'guest/toPipeline']) expect(byRule[rule]).toMatchObject({ statusCode: 0, success: true, activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });

  const echoed = await record(byRule['guest/toEcho'].activationId);
  expect(echoed).toMatchObject({ name: 'echo', cause: fired.body.activationId, response: { result: { source: 'trigger', kind: 'payload', order: 7 } } });
  expect((await record(byRule['guest/toTag'].activationId)).response.result).toMatchObject({ tagged: true, order: 7 });
  const pipeline = await record(byRule['guest/toPipeline'].activationId);
  expect(pipeline).toMatchObject({ name: 'pipeline', cause: fired.body.activationId, response: { result: { tagged: true, order: 7 } } });
  expect(pipeline.logs).toHaveLength(2);
  // Caused by the trigger, yet still the topmost composition.
  expect(pipeline.annotations).toContainEqual({ key: 'topmost', value: true });
});

test('rules: status, enable and disable, update, and delete unlinking the trigger', async () => {
  const ow = env.wsk();
  await ow.triggers.create({ name: 'clicks' });
  const created: any = await ow.rules.create({ name: 'onClick', trigger: 'clicks', action: 'echo' });
  expect(created).toMatchObject({ name: 'onClick', status: 'active', trigger: { path: 'guest', name: 'clicks' }, action: { path: 'guest', name: 'echo' } });

  // As OpenWhisk's: the answer is the text OK, and a GET shows the new status.
  expect(await api('POST', 'namespaces/_/rules/onClick', { status: 'inactive' })).toMatchObject({ status: 200, body: 'OK' });
  expect(((await ow.rules.get({ name: 'onClick' })) as any).status).toBe('inactive');
  expect((await api('POST', 'namespaces/_/triggers/clicks', {})).status).toBe(204);
  await ow.rules.enable({ name: 'onClick' });
  expect(((await ow.rules.get({ name: 'onClick' })) as any).status).toBe('active');
  // Enabling an active rule is fine too.
  expect(await api('POST', 'namespaces/_/rules/onClick', { status: 'active' })).toMatchObject({ status: 200, body: 'OK' });

  const trigger: any = await ow.triggers.get({ name: 'clicks' });
  expect(trigger.rules).toEqual({ 'guest/onClick': { action: { path: 'guest', name: 'echo' }, status: 'active' } });

  // An update re-points the rule and keeps its status.
  const updated: any = await ow.rules.update({ name: 'onClick', trigger: 'clicks', action: 'lib/tag' });
  expect(updated).toMatchObject({ version: '0.0.2', status: 'active', action: { path: 'guest/lib', name: 'tag' } });

  const deleted = await api('DELETE', 'namespaces/_/rules/onClick');
  expect(deleted).toMatchObject({ status: 200, body: { name: 'onClick', status: 'inactive' } });
  expect(((await ow.triggers.get({ name: 'clicks' })) as any).rules).toEqual({});
  expect((await api('GET', 'namespaces/_/rules/onClick')).status).toBe(404);
});

test('trigger CRUD: update keeps rules and bumps the version; delete returns the trigger; listing and counting', async () => {
  const ow = env.wsk();
  await ow.triggers.create({ name: 'crud', trigger: { annotations: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] } } as any);
  await ow.rules.create({ name: 'crudRule', trigger: 'crud', action: 'echo' });
  expect((await api('PUT', 'namespaces/_/triggers/crud', {})).status).toBe(409);
  const updated = await api('PUT', 'namespaces/_/triggers/crud?overwrite=true', { parameters: [{ key: 'p', value: 1 }], delAnnotations: ['a'] });
  expect(updated.body).toMatchObject({ version: '0.0.2', parameters: [{ key: 'p', value: 1 }], annotations: [{ key: 'b', value: 2 }], rules: { 'guest/crudRule': { status: 'active' } } });
  const listed: any[] = await ow.triggers.list();
  expect(listed.map((t) => t.name)).toContain('crud');
  expect((await api('GET', 'namespaces/_/triggers?count=true')).body.triggers).toBe(listed.length);
  expect((await api('DELETE', 'namespaces/_/triggers/crud')).body).toMatchObject({ name: 'crud', version: '0.0.2' });
  // The rule outlives its trigger, inactive, and cannot be enabled.
  expect(((await ow.rules.get({ name: 'crudRule' })) as any).status).toBe('inactive');
  expect((await api('POST', 'namespaces/_/rules/crudRule', { status: 'active' })).status).toBe(404);
});

test('bad triggers and rules get 4xx and write nothing', async () => {
  await env.wsk().triggers.create({ name: 'existingTrigger' });
  const before = await dumpStore(env.clients);
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['PUT', 'namespaces/_/rules/r', {}, 400, /rule requires a valid trigger and a valid action/],
    ['PUT', 'namespaces/_/rules/r', { trigger: '/guest/existingTrigger' }, 400, /valid trigger and a valid action/],
    ['PUT', 'namespaces/_/rules/r', { trigger: '/guest/none', action: '/guest/echo' }, 400, /^trigger \/guest\/none does not exist$/],
    ['PUT', 'namespaces/_/rules/r', { trigger: 'existingTrigger', action: 'tools/none' }, 400, /^action \/guest\/tools\/none does not exist$/],
    ['PUT', 'namespaces/_/rules/r', { trigger: '/other/existingTrigger', action: '/guest/echo' }, 400, /valid trigger/],
    ['PUT', 'namespaces/_/rules/r', { trigger: 7, action: '/guest/echo' }, 400, /malformed/],
    ['PUT', 'namespaces/_/rules/r', { trigger: '/guest/existingTrigger', action: '/other/x' }, 403, /not authorized/],
    ['POST', 'namespaces/_/rules/none', { status: 'active' }, 404, /does not exist/],
    ['PUT', 'namespaces/_/triggers/t', { parameters: {} }, 400, /malformed/],
    ['PUT', 'namespaces/_/triggers/t', { annotations: [{ key: 'feed', value: '//' }] }, 400, /feed/],
    ['PUT', 'namespaces/_/triggers/-t', {}, 400, /not valid/],
    ['PUT', 'namespaces/_/triggers/t', { parameters: [{ key: 'big', value: 'x'.repeat(1_048_600) }] }, 413, /exceeds/],
    ['POST', 'namespaces/_/triggers/none', {}, 404, /does not exist/],
    ['POST', 'namespaces/_/triggers/existingTrigger', [1], 400, /malformed/],
    ['GET', 'namespaces/_/triggers?limit=201', undefined, 400, /range of 0 to 200/],
    ['PATCH', 'namespaces/_/triggers/existingTrigger', {}, 405, /not allowed/],
  ];
  for (const [method, path, body, status, error] of cases) {
    const response = await api(method, path, body);
    expect([method, path, JSON.stringify(body)?.slice(0, 80), response.status]).toEqual([method, path, JSON.stringify(body)?.slice(0, 80), status]);
    expect(response.body.error).toMatch(error);
  }
  // A rule's status change with a bad body.
  await env.wsk().rules.create({ name: 'okRule', trigger: 'existingTrigger', action: 'echo' });
  const afterRule = await dumpStore(env.clients);
  expect((await api('POST', 'namespaces/_/rules/okRule', { status: 'paused' })).status).toBe(400);
  expect(await dumpStore(env.clients)).toEqual(afterRule);
  expect(afterRule).not.toEqual(before);
});
