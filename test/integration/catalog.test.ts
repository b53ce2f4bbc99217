import { basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';

// The standard catalog every namespace can use, as OpenWhisk's docs and tutorials use it: the
// utils and samples actions, sequences and bindings built on them, and nobody but the platform
// changing them.

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

const invoke = async (name: string, params: Record<string, unknown> = {}) =>
  (await env.wsk().actions.invoke({ name, params, blocking: true, result: true })) as Record<string, unknown>;

test.each([
  ['utils/echo returns its input', '/whisk.system/utils/echo', { payload: 'Five fuzzy felines' }, { payload: 'Five fuzzy felines' }],
  ['utils/cat joins lines', '/whisk.system/utils/cat', { lines: [4, 2, 3] }, { lines: [4, 2, 3], payload: '4\n2\n3' }],
  ['utils/sort sorts lines as strings', '/whisk.system/utils/sort', { lines: ['b', 'a', 10, 9] }, { lines: [10, 9, 'a', 'b'], length: 4 }],
  ['utils/head takes the first line by default', '/whisk.system/utils/head', { lines: [1, 2, 3] }, { lines: [1], num: 1 }],
  ['utils/head takes num lines', '/whisk.system/utils/head', { lines: [1, 2, 3, 4], num: 2 }, { lines: [1, 2], num: 2 }],
  ['utils/split splits on line breaks', '/whisk.system/utils/split', { payload: 'a\r\nb\nc' }, { lines: ['a', 'b', 'c'], payload: 'a\r\nb\nc' }],
  ['utils/split splits on a separator', '/whisk.system/utils/split', { payload: 'a,b', separator: ',' }, { lines: ['a', 'b'], payload: 'a,b' }],
  ['utils/smash nests the input', '/whisk.system/utils/smash', { a: 1, b: { c: 2 }, $fieldName: 'p' }, { p: { a: 1, b: { c: 2 } } }],
  ['utils/namespace answers the caller', '/whisk.system/utils/namespace', {}, { namespace: 'guest' }],
  ['samples/greeting greets a stranger', '/whisk.system/samples/greeting', {}, { payload: 'Hello, stranger from somewhere!' }],
  ['samples/greeting greets by name', '/whisk.system/samples/greeting', { name: 'Cat', place: 'Narrowsburg' }, { payload: 'Hello, Cat from Narrowsburg!' }],
  ['samples/wordCount counts words', '/whisk.system/samples/wordCount', { payload: 'Five fuzzy felines' }, { count: 3 }],
  ['samples/helloWorld returns nothing', '/whisk.system/samples/helloWorld', { payload: 'Cat' }, {}],
])('%s', async (_title, name, params, expected) => {
  await expect(invoke(name, params)).resolves.toEqual(expected);
});

test('utils/date and utils/hosturl answer with the time and the platform URL', async () => {
  const { date } = await invoke('/whisk.system/utils/date');
  expect(Math.abs(Date.parse(String(date)) - Date.now())).toBeLessThan(60_000);
  const { url } = await invoke('/whisk.system/utils/hosturl', { web: true, path: 'hello', ext: '.json' });
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/web\/guest\/default\/hello\.json$/);
});

test.each([
  ['utils/smash without a field name', '/whisk.system/utils/smash', { a: 1 }, "Expected an argument '$fieldName' of type 'string'."],
  ['utils/hosturl of a web trigger', '/whisk.system/utils/hosturl', { web: true, trigger: true }, 'triggers are not allowed for web actions.'],
])('%s is an application error', async (_title, name, params, message) => {
  const activation = (await env.wsk().actions.invoke({ name, params, blocking: true }).catch((error: { error?: unknown }) => error.error)) as { response: { status: string; result: unknown } };
  expect(activation.response).toMatchObject({ status: 'application error', result: { error: message } });
});

test('samples/curl answers what curl would say about a host that does not answer', async () => {
  const { msg } = await invoke('/whisk.system/samples/curl', { payload: '127.0.0.1:1' });
  expect(String(msg)).toMatch(/^curl: /);
});

test("helloWorld's greeting is in its logs", async () => {
  const activation = (await env.wsk().actions.invoke({ name: '/whisk.system/samples/helloWorld', params: { payload: 'Cat' }, blocking: true })) as { logs: string[] };
  expect(activation.logs.join('\n')).toContain('hello Cat!');
});

test("the docs' sequence of split, sort, head and cat works on the catalog", async () => {
  await env.wsk().actions.create({
    name: 'firstLine',
    action: { exec: { kind: 'sequence', components: ['/whisk.system/utils/split', '/whisk.system/utils/sort', '/whisk.system/utils/head', '/whisk.system/utils/cat'] } },
  });
  await expect(invoke('firstLine', { payload: 'pear\napple\nfig' })).resolves.toEqual({ lines: ['apple'], payload: 'apple' });
});

test('a binding of samples gives greeting its bound place', async () => {
  await env.wsk().packages.create({ name: 'mySamples', package: { binding: { namespace: 'whisk.system', name: 'samples' }, parameters: [{ key: 'place', value: 'Skywhisk' }] } });
  await expect(invoke('mySamples/greeting', { name: 'Ada' })).resolves.toEqual({ payload: 'Hello, Ada from Skywhisk!' });
});

test('the catalog is listed to every namespace and nobody else can change it', async () => {
  const listed = (await env.wsk().packages.list({ namespace: 'whisk.system' })) as Array<{ name: string }>;
  expect(listed.map((p) => p.name)).toEqual(expect.arrayContaining(['utils', 'samples', 'alarms']));
  const headers = { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' };
  const change = await fetch(`${env.platform.apiHost}/api/v1/namespaces/whisk.system/actions/utils/echo?overwrite=true`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ exec: { kind: 'nodejs:20', code: 'function main() { return { owned: true }; }' } }),
  });
  expect(change.status).toBe(403);
  const remove = await fetch(`${env.platform.apiHost}/api/v1/namespaces/whisk.system/actions/utils/echo`, { method: 'DELETE', headers });
  expect(remove.status).toBe(403);
  await expect(invoke('/whisk.system/utils/echo', { still: 'mine' })).resolves.toEqual({ still: 'mine' });
});

test('a restart keeps each catalog action as it was (no new version)', async () => {
  const before = (await env.wsk().actions.get({ name: '/whisk.system/utils/echo' })) as { version: string; exec: { code: string } };
  await env.restart();
  const after = (await env.wsk().actions.get({ name: '/whisk.system/utils/echo' })) as { version: string; exec: { code: string } };
  expect(after.version).toBe(before.version);
  expect(after.exec.code).toBe(before.exec.code);
});
