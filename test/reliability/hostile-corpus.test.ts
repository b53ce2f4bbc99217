import { request as httpRequest } from 'node:http';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { configFromEnv } from '../../lib/config';
import { nestsDeeperThan } from '../../lib/model/json-depth';
import { basicAuthHeader, clientForNewNamespace, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// A corpus of hostile requests, generated across every route: malformed and mistyped bodies, deep
// nesting, huge bodies and headers, path tricks and unicode in names, bad and missing auth, other
// namespaces' paths, and wrong methods. Every answer is a 4xx in OpenWhisk's error shape, never a
// 5xx, and the store and queues are exactly as before the corpus.

let env: TestPlatform;
let auth: string;
let otherAuth: string;

beforeAll(async () => {
  env = await startTestPlatform();
  auth = basicAuthHeader(env.platform.auth);
  const wsk = env.wsk();
  await wsk.actions.create({ name: 'existing', action: 'function main(p) { return p; }' });
  await wsk.packages.create({ name: 'private-pkg' });
  await wsk.triggers.create({ name: 'existing-trigger' });
  await wsk.actions.invoke({ name: 'existing', blocking: true });
  // A second namespace whose entities the guest must not reach.
  const other = await clientForNewNamespace(env, 'other-ns');
  otherAuth = basicAuthHeader(other.auth);
  await other.wsk.actions.create({ name: 'secret-action', action: 'function main() { return { secret: 1 }; }' });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

interface Hostile {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const COLLECTIONS = ['actions', 'packages', 'triggers', 'rules'];
const BAD_NAMES = [
  '-dash',
  '.hidden',
  '..',
  '%2e%2e',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'a%2Fb%2Fc%2Fd',
  'n'.repeat(257),
  'h%C3%A9llo',
  '%F0%9F%98%80',
  '%E2%80%AEevil',
  'a%00b',
  'tab%09name',
  'trailing%20',
  '%20leading',
  'semi;colon',
  'quote%22s',
  'back%5Cslash',
  '%25zz',
  '%ZZ',
  'a%0D%0ASet-Cookie:%20x',
];
const BAD_JSON = ['{', '{"exec":', '}{', 'nul', '[]', 'null', '"text"', '123', 'true', '{"a":1,}', "{'a':1}", '\u0000', '[[[[[[', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}', '{"a":' + '{"b":'.repeat(101) + '1' + '}'.repeat(101) + '}'];
const WRONG_TYPES: Record<string, unknown[]> = {
  actions: [{ exec: 'code' }, { exec: { kind: 1, code: 'x' } }, { exec: { kind: 'nodejs:20', code: 7 } }, { exec: { kind: 'nodejs:20', code: 'x' }, limits: { memory: 'lots' } }, { exec: { kind: 'nodejs:20', code: 'x' }, annotations: 'a' }, { exec: { kind: 'nodejs:20', code: 'x' }, parameters: [{ key: 1 }] }, { exec: { kind: 'sequence', components: 'a' } }],
  packages: [{ publish: 'yes' }, { parameters: {} }, { binding: 'x' }, { binding: { namespace: 7 } }, { annotations: [{ key: null }] }, { version: 1 }],
  triggers: [{ parameters: 'p' }, { annotations: {} }, { limits: [] }, { publish: 0 }, { version: 'v' }],
  rules: [{ trigger: 7, action: 'existing' }, { trigger: 'existing-trigger' }, { action: 'existing' }, { trigger: '', action: '' }, { trigger: '/other-ns/t', action: 'existing' }, { trigger: 'existing-trigger', action: '/other-ns/secret-action' }, { status: 'on' }],
};

function corpus(): Array<Hostile & { why: string }> {
  const cases: Array<Hostile & { why: string }> = [];
  const json = (value: unknown) => JSON.stringify(value);
  for (const collection of COLLECTIONS) {
    const base = `/api/v1/namespaces/_/${collection}`;
    for (const name of BAD_NAMES) {
      for (const method of ['GET', 'PUT', 'DELETE']) cases.push({ why: `${method} ${collection} with a bad name`, method, path: `${base}/${name}`, body: method === 'PUT' ? '{}' : undefined });
    }
    for (const body of BAD_JSON) cases.push({ why: `malformed JSON to ${collection}`, method: 'PUT', path: `${base}/fresh-${collection}`, body });
    for (const body of WRONG_TYPES[collection]) cases.push({ why: `wrong types to ${collection}: ${json(body).slice(0, 40)}`, method: 'PUT', path: `${base}/typed-${collection}`, body: json(body) });
    cases.push({ why: `PATCH ${collection}`, method: 'PATCH', path: `${base}/existing`, body: '{}' });
    cases.push({ why: `POST to the ${collection} collection`, method: 'POST', path: base, body: '{}' });
    // (Listing another namespace's packages is allowed: it shows only the published ones.)
    if (collection !== 'packages') cases.push({ why: `another namespace's ${collection}`, method: 'GET', path: `/api/v1/namespaces/other-ns/${collection}` });
    cases.push({ why: `PUT into another namespace's ${collection}`, method: 'PUT', path: `/api/v1/namespaces/other-ns/${collection}/planted`, body: json({ exec: { kind: 'nodejs:20', code: 'x' } }) });
    cases.push({ why: `DELETE in another namespace's ${collection}`, method: 'DELETE', path: `/api/v1/namespaces/other-ns/${collection}/secret-action` });
    cases.push({ why: `list ${collection} with a bad limit`, method: 'GET', path: `${base}?limit=-1` });
    cases.push({ why: `list ${collection} with a huge limit`, method: 'GET', path: `${base}?limit=100000` });
    cases.push({ why: `list ${collection} with a text skip`, method: 'GET', path: `${base}?skip=abc` });
    // Actions may carry 48 MB of code; their parameters, and every other entity, 1 MB.
    if (collection === 'actions') cases.push({ why: 'action parameters over 1 MB', method: 'PUT', path: `${base}/huge`, body: json({ exec: { kind: 'nodejs:20', code: 'x' }, parameters: [{ key: 'p', value: 'x'.repeat(1_100_000) }] }) });
    else cases.push({ why: `a body over 1 MB to ${collection}`, method: 'PUT', path: `${base}/huge`, body: json({ exec: { kind: 'nodejs:20', code: 'x'.repeat(1_100_000) }, parameters: [] }) });
  }
  // Invokes, fires and activations.
  const actions = '/api/v1/namespaces/_/actions';
  for (const body of BAD_JSON) cases.push({ why: 'malformed JSON invoke', method: 'POST', path: `${actions}/existing`, body });
  cases.push({ why: 'invoke another namespace\'s action', method: 'POST', path: '/api/v1/namespaces/other-ns/actions/secret-action?blocking=true', body: '{}' });
  cases.push({ why: 'invoke with a bad timeout', method: 'POST', path: `${actions}/existing?blocking=true&timeout=-5`, body: '{}' });
  cases.push({ why: 'invoke a missing action', method: 'POST', path: `${actions}/not-there`, body: '{}' });
  cases.push({ why: 'invoke with an array payload', method: 'POST', path: `${actions}/existing`, body: '[1,2]' });
  cases.push({ why: 'fire another namespace\'s trigger', method: 'POST', path: '/api/v1/namespaces/other-ns/triggers/t', body: '{}' });
  cases.push({ why: 'fire with malformed JSON', method: 'POST', path: '/api/v1/namespaces/_/triggers/existing-trigger', body: '{' });
  for (const id of ['zz', '0'.repeat(33), '../x', '%00', 'g'.repeat(32)]) cases.push({ why: `activation id ${id.slice(0, 10)}`, method: 'GET', path: `/api/v1/namespaces/_/activations/${id}` });
  cases.push({ why: 'activations since a text', method: 'GET', path: '/api/v1/namespaces/_/activations?since=yesterday' });
  cases.push({ why: 'another namespace\'s activations', method: 'GET', path: '/api/v1/namespaces/other-ns/activations' });
  cases.push({ why: 'DELETE an activation', method: 'DELETE', path: '/api/v1/namespaces/_/activations/' + '0'.repeat(32) });
  // Authentication.
  const authCases: Array<[string, string | undefined]> = [
    ['no Authorization', undefined],
    ['Basic without credentials', 'Basic'],
    ['Basic with bad base64', 'Basic !!!notbase64!!!'],
    ['Basic without a colon', `Basic ${Buffer.from('justauuid').toString('base64')}`],
    ['a wrong key', `Basic ${Buffer.from(`${env.platform.auth.split(':')[0]}:wrong`).toString('base64')}`],
    ['an unknown uuid', `Basic ${Buffer.from('00000000-0000-4000-8000-000000000000:key').toString('base64')}`],
    ['a Bearer token', 'Bearer abc.def.ghi'],
    ['an 8 KB header', `Basic ${'A'.repeat(8000)}`],
    ['a unicode key', `Basic ${Buffer.from('uuid:kéy☃').toString('base64')}`],
  ];
  for (const [why, header] of authCases) {
    for (const path of ['/api/v1/namespaces', '/api/v1/namespaces/_/actions', '/api/v1/namespaces/_/actions/existing', '/api/v1/namespaces/_/activations']) {
      cases.push({ why: `${why} on ${path}`, method: 'GET', path, headers: header === undefined ? { Authorization: '' } : { Authorization: header } });
    }
    cases.push({ why: `${why} on an invoke`, method: 'POST', path: `${actions}/existing`, body: '{}', headers: header === undefined ? { Authorization: '' } : { Authorization: header } });
  }
  // Other namespaces' keys cannot reach the guest's entities.
  cases.push({ why: 'another subject on the guest namespace', method: 'GET', path: '/api/v1/namespaces/guest/actions/existing', headers: { Authorization: otherAuth } });
  cases.push({ why: 'another subject invoking in the guest namespace', method: 'POST', path: '/api/v1/namespaces/guest/actions/existing', body: '{}', headers: { Authorization: otherAuth } });
  // Web actions: the action is not a web action, and bad paths.
  for (const path of ['/api/v1/web/guest/default/existing.json', '/api/v1/web/guest/default/missing.json', '/api/v1/web/other-ns/default/secret-action.json', '/api/v1/web/%00/x/y', '/api/v1/web/guest', '/api/v1/web/guest/default/existing.exe']) {
    cases.push({ why: `web ${path}`, method: 'GET', path, headers: { Authorization: '' } });
  }
  // Unknown routes.
  for (const path of ['/api/v2/namespaces', '/api/v1/namespaces/_/unknown', '/api/v1/namespaces/_/actions/a/b/c/d', '/api/v1//namespaces', '/api/v1/namespaces/_/limits/x']) cases.push({ why: `unknown ${path}`, method: 'GET', path });
  return cases;
}

/** One raw request (node:http, so header and body bytes go out as written). */
function send(hostile: Hostile): Promise<{ status: number; body: string }> {
  const url = new URL(env.platform.apiHost);
  const headers: Record<string, string> = { Authorization: auth, ...(hostile.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...hostile.headers };
  if (headers.Authorization === '') delete headers.Authorization;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, method: hostile.method, path: hostile.path, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    if (hostile.body !== undefined) request.write(hostile.body);
    request.end();
  });
}

test('at least 300 hostile requests: every answer a 4xx in OpenWhisk error shape, and the store unchanged', async () => {
  const cases = corpus();
  expect(cases.length).toBeGreaterThanOrEqual(300);
  const before = await dumpStore(env.clients);
  const wrong: string[] = [];
  for (const hostile of cases) {
    const { status, body } = await send(hostile);
    let shaped: boolean;
    try {
      const parsed = JSON.parse(body) as { error?: unknown; code?: unknown };
      shaped = typeof parsed.error === 'string' && typeof parsed.code === 'string';
    } catch {
      shaped = false;
    }
    if (status < 400 || status > 499 || !shaped) wrong.push(`${hostile.why} (${hostile.method} ${hostile.path.slice(0, 80)}): ${status} ${body.slice(0, 120)}`);
  }
  expect(wrong).toEqual([]);
  expect(await dumpStore(env.clients)).toEqual(before);
}, 180_000);

test('a result nested 40 levels deep ends in a record DynamoDB would accept (at most 32 levels)', async () => {
  let nested: unknown = 'bottom';
  for (let level = 0; level < 40; level++) nested = { level: nested };
  const wsk = env.wsk();
  const activation = (await wsk.actions.invoke({ name: 'existing', blocking: true, params: { nested } })) as { activationId: string; response: { result: unknown } };
  expect(activation.response.result).toEqual({ nested });
  const stored = (await wsk.activations.get({ name: activation.activationId })) as { response: { result: unknown } };
  expect(stored.response.result).toEqual({ nested });
  // dynalite takes deeper items; DynamoDB refuses them, so the stored item itself is checked.
  const { Item } = await env.clients.dynamo.send(new GetCommand({ TableName: configFromEnv({}).tables.activations, Key: { namespace: 'guest', activationId: activation.activationId } }));
  expect(Item).toBeDefined();
  expect(nestsDeeperThan(Item, 32)).toBe(false);
});
