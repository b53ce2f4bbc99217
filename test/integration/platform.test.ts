import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { basicAuthHeader, LIFTED_LIMITS, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/pool';
import { zipBase64 } from '../helpers/zip';

// The embedded platform (endpoint, controller, invoker as real processes) driven by the official
// `openwhisk` npm client, configured only with the apihost and auth the platform printed.

const HELLO = `function main(params) {
  console.log('hello to', params.name);
  console.error('a line on stderr');
  return { greeting: 'Hello ' + (params.name || 'stranger') };
}`;

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform({ SKYWHISK_ACTIVATION_RETENTION_DAYS: '1' });
});

afterAll(async () => {
  await env?.stop();
});

type Record_ = {
  activationId: string;
  name: string;
  start: number;
  end: number;
  duration: number;
  logs: string[];
  response: { status: string; success: boolean; result: Record<string, unknown>; statusCode?: number };
  annotations: Array<{ key: string; value: unknown }>;
};

/** The rejection of an invoke that answered 502: its status and the activation record it carried. */
async function invokeFailure(invoke: Promise<unknown>): Promise<{ statusCode: number; record: Record_ }> {
  try {
    await invoke;
  } catch (error) {
    const { statusCode, error: record } = error as { statusCode: number; error: Record_ };
    return { statusCode, record };
  }
  throw new Error('the invoke was expected to fail');
}

function annotation(record: Record_, key: string): unknown {
  return record.annotations.find((a) => a.key === key)?.value;
}

describe('actions', () => {
  test('a zip uploaded without binary: true (a Buffer from the openwhisk client) is stored as a zip and runs', async () => {
    const wsk = env.wsk();
    const zip = Buffer.from(await zipBase64({ 'index.js': "exports.main = () => ({ from: 'the zip' });" }), 'base64');
    // The client sends the Buffer base64-encoded and leaves `binary` out, as Serverless and aio do.
    const created = await wsk.actions.create({ name: 'zip-buffer', action: zip, kind: 'nodejs:20' });
    expect(created.exec).toMatchObject({ kind: 'nodejs:20', binary: true });
    expect((await wsk.actions.get({ name: 'zip-buffer' })).exec).toMatchObject({ binary: true, code: zip.toString('base64') });
    expect(await wsk.actions.invoke({ name: 'zip-buffer', blocking: true, result: true })).toEqual({ from: 'the zip' });
    // As in OpenWhisk, the code decides: source sent with binary: true is stored as source.
    const source = await wsk.actions.update({ name: 'zip-buffer', action: HELLO, exec: { binary: true } } as never);
    expect(source.exec).toMatchObject({ binary: false });
    expect(await wsk.actions.invoke({ name: 'zip-buffer', blocking: true, result: true, params: { name: 'zip' } })).toEqual({ greeting: 'Hello zip' });
  });

  test('create, get, list, update and delete an action', async () => {
    const wsk = env.wsk();
    const created = await wsk.actions.create({ name: 'crud', action: HELLO });
    expect(created).toMatchObject({ name: 'crud', namespace: 'guest', version: '0.0.1', exec: { kind: 'nodejs:22', binary: false } });
    expect(created.annotations).toEqual(
      expect.arrayContaining([
        { key: 'exec', value: 'nodejs:22' },
        { key: 'provide-api-key', value: false },
      ]),
    );
    expect(created.limits).toEqual({ timeout: 60000, memory: 256, logs: 10, concurrency: 1 });

    const fetched = await wsk.actions.get({ name: 'crud' });
    expect((fetched.exec as { code?: string }).code).toBe(HELLO);
    const withoutCode = await wsk.actions.get({ name: 'crud', code: false } as never);
    expect(withoutCode.exec).not.toHaveProperty('code');

    const listed = await wsk.actions.list();
    expect(listed.map((a: { name?: string }) => a.name)).toContain('crud');
    expect(listed.find((a: { name?: string }) => a.name === 'crud')).not.toHaveProperty('exec.code');

    const updated = await wsk.actions.update({ name: 'crud', action: 'function main() { return { v: 2 }; }', limits: { timeout: 5000 } } as never);
    expect(updated.version).toBe('0.0.2');
    expect(updated.limits).toMatchObject({ timeout: 5000, memory: 256 });
    expect(updated.limits).not.toHaveProperty('instances');
    // `instances` shows only once set, and later updates keep it, as OpenWhisk's limits do.
    const scaled = (await wsk.actions.update({ name: 'crud', limits: { instances: 4 } } as never)) as unknown as { limits: Record<string, number> };
    expect(scaled.limits).toEqual({ timeout: 5000, memory: 256, logs: 10, concurrency: 1, instances: 4 });
    const kept = (await wsk.actions.update({ name: 'crud', limits: { memory: 128 } } as never)) as unknown as { limits: Record<string, number> };
    expect(kept.limits).toMatchObject({ memory: 128, instances: 4 });
    // The record's limits annotation is the action's limits, instances included.
    const record = (await wsk.actions.invoke({ name: 'crud', blocking: true })) as unknown as Record_;
    expect(annotation(record, 'limits')).toEqual({ timeout: 5000, memory: 128, logs: 10, concurrency: 1, instances: 4 });

    const deleted = await wsk.actions.delete({ name: 'crud' });
    expect(deleted.name).toBe('crud');
    await expect(wsk.actions.get({ name: 'crud' })).rejects.toMatchObject({ statusCode: 404 });
  });

  test('creating an action that exists is a 409 and leaves it unchanged', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'dup', action: HELLO });
    await expect(wsk.actions.create({ name: 'dup', action: 'function main() { return {}; }' })).rejects.toMatchObject({
      statusCode: 409,
      message: expect.stringContaining('resource already exists'),
    });
    expect(((await wsk.actions.get({ name: 'dup' })).exec as { code?: string }).code).toBe(HELLO);
  });

  test('list supports limit, skip and count', async () => {
    const wsk = env.wsk();
    for (const name of ['page-a', 'page-b', 'page-c']) await wsk.actions.create({ name, action: HELLO });
    const all = await wsk.actions.list({ limit: 200 });
    const firstTwo = await wsk.actions.list({ limit: 2 });
    const skipped = await wsk.actions.list({ limit: 2, skip: 1 });
    expect(firstTwo).toHaveLength(2);
    expect(skipped[0].name).toBe(all[1].name);
    // Newest update first.
    expect(all[0].name).toBe('page-c');
    const count = await wsk.actions.list({ count: true } as never);
    expect(count).toEqual({ actions: all.length });
  });

  test('an action far larger than one DynamoDB item is stored, run, updated and deleted whole', async () => {
    const wsk = env.wsk();
    // About 800 KB of code: a table the action returns a checksum of (multi-byte characters included).
    const table = Array.from({ length: 50_000 }, (_, i) => `"k${i}é":${i}`).join(',');
    const big = `const table = {${table}};\nfunction main() { return { entries: Object.keys(table).length, last: table['k49999é'] }; }`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(400 * 1024);
    await wsk.actions.create({ name: 'big', action: big });
    expect(((await wsk.actions.get({ name: 'big' })).exec as { code?: string }).code).toBe(big);
    expect(await wsk.actions.invoke({ name: 'big', blocking: true, result: true })).toEqual({ entries: 50000, last: 49999 });
    await wsk.actions.update({ name: 'big', action: big.replace('entries:', 'count:') });
    expect(await wsk.actions.invoke({ name: 'big', blocking: true, result: true })).toEqual({ count: 50000, last: 49999 });
    await wsk.actions.delete({ name: 'big' });
    const { Items } = await env.clients.dynamo.send(new ScanCommand({ TableName: 'skywhisk-entities' }));
    expect((Items ?? []).filter((item) => String(item.key).includes('big'))).toEqual([]);
  });

  test('a packaged action name is stored under its package, which must exist', async () => {
    const wsk = env.wsk();
    await expect(wsk.actions.create({ name: 'tools/echo', action: 'function main(p) { return p; }' })).rejects.toMatchObject({ statusCode: 404 });
    await wsk.packages.create({ name: 'tools' });
    const created = await wsk.actions.create({ name: 'tools/echo', action: 'function main(p) { return p; }' });
    expect(created.namespace).toBe('guest/tools');
    const result = await wsk.actions.invoke({ name: 'tools/echo', blocking: true, result: true, params: { a: 1 } });
    expect(result).toEqual({ a: 1 });
  });
});

describe('invoking', () => {
  beforeAll(async () => {
    await env.wsk().actions.create({ name: 'hello', action: HELLO });
  });

  test('a blocking invoke returns the activation record with result, logs and annotations', async () => {
    const record = (await env.wsk().actions.invoke({ name: 'hello', blocking: true, params: { name: 'World' } })) as Record_;
    expect(record.activationId).toMatch(/^[0-9a-f]{32}$/);
    expect(record.response).toEqual({ status: 'success', success: true, result: { greeting: 'Hello World' }, size: expect.any(Number) });
    expect(record.response).not.toHaveProperty('statusCode');
    expect(record.logs).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: hello to World$/),
      expect.stringMatching(/ stderr: a line on stderr$/),
    ]);
    expect(annotation(record, 'path')).toBe('guest/hello');
    expect(annotation(record, 'kind')).toBe('nodejs:22');
    expect(annotation(record, 'limits')).toEqual({ timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
    expect(annotation(record, 'waitTime')).toEqual(expect.any(Number));
    expect(record.duration).toBe(record.end - record.start);
  });

  test('the first invoke is cold (initTime) and the next reuses the warm container (no initTime)', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'warmth', action: 'let n = 0; function main() { n += 1; return { n }; }' });
    const first = (await wsk.actions.invoke({ name: 'warmth', blocking: true })) as Record_;
    const second = (await wsk.actions.invoke({ name: 'warmth', blocking: true })) as Record_;
    expect(annotation(first, 'initTime')).toEqual(expect.any(Number));
    expect(annotation(second, 'initTime')).toBeUndefined();
    expect(second.response.result).toEqual({ n: 2 });
  });

  test('an updated action never runs in the old revision container', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'revisions', action: 'function main() { return { v: 1 }; }' });
    expect(await wsk.actions.invoke({ name: 'revisions', blocking: true, result: true })).toEqual({ v: 1 });
    await wsk.actions.update({ name: 'revisions', action: 'function main() { return { v: 2 }; }' });
    expect(await wsk.actions.invoke({ name: 'revisions', blocking: true, result: true })).toEqual({ v: 2 });
  });

  test('result=true returns only the result', async () => {
    const result = await env.wsk().actions.invoke({ name: 'hello', blocking: true, result: true, params: { name: 'R' } });
    expect(result).toEqual({ greeting: 'Hello R' });
  });

  test('an action returning an array answers the bare array to a blocking invoke, with or without result=true', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'listing', action: 'function main() { return [1, { two: 2 }]; }', kind: 'nodejs:20' });
    // As OpenWhisk's controller: an array result is the answer, never wrapped in the record.
    expect(await wsk.actions.invoke({ name: 'listing', blocking: true })).toEqual([1, { two: 2 }]);
    const withResult = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/listing?blocking=true&result=true`, {
      method: 'POST',
      headers: { authorization: basicAuthHeader(env.platform.auth) },
    });
    expect(withResult.status).toBe(200);
    expect(withResult.headers.get('x-openwhisk-activation-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(await withResult.json()).toEqual([1, { two: 2 }]);
    const { activationId } = (await wsk.actions.invoke({ name: 'listing' })) as { activationId: string };
    const record = await eventually('the record', () => wsk.activations.get({ name: activationId }).catch(() => undefined), (r) => r !== undefined);
    expect(record).toMatchObject({ response: { success: true, result: [1, { two: 2 }] } });
  });

  test('a non-blocking invoke answers 202 with an id whose record appears later', async () => {
    const wsk = env.wsk();
    const accepted = await wsk.actions.invoke({ name: 'hello', params: { name: 'later' } });
    expect(Object.keys(accepted)).toEqual(['activationId']);
    let record: Record_ | undefined;
    for (let i = 0; i < 100 && !record; i++) {
      record = (await wsk.activations.get({ name: accepted.activationId }).catch(() => undefined)) as Record_ | undefined;
      if (!record) await new Promise((r) => setTimeout(r, 100));
    }
    expect(record?.response.result).toEqual({ greeting: 'Hello later' });
    const logs = await wsk.activations.logs({ name: accepted.activationId });
    expect(logs.logs[0]).toMatch(/stdout: hello to later$/);
    const result = await wsk.activations.result({ name: accepted.activationId });
    expect(result).toEqual({ status: 'success', success: true, result: { greeting: 'Hello later' }, size: expect.any(Number) });
  });

  test('default parameters merge under the invoke payload', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'defaults', action: 'function main(p) { return p; }', params: { a: 'default', b: 'default' } });
    expect(await wsk.actions.invoke({ name: 'defaults', blocking: true, result: true, params: { b: 'payload' } })).toEqual({ a: 'default', b: 'payload' });
  });

  test('an {error} result is an application error: 502 with the record, container kept warm', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'apperr', action: 'function main() { return { error: "bad input" }; }' });
    const failure = await invokeFailure(wsk.actions.invoke({ name: 'apperr', blocking: true }));
    expect(failure.statusCode).toBe(502);
    expect(failure.record.response).toMatchObject({ status: 'application error', success: false, result: { error: 'bad input' } });
    const again = await invokeFailure(wsk.actions.invoke({ name: 'apperr', blocking: true }));
    expect(annotation(again.record, 'initTime')).toBeUndefined();
  });

  test('results follow OpenWhisk’s nodejs runner: no return is {}, a rejection is {error}', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'silent', action: 'function main(p) { console.log("no result"); }' });
    expect(await wsk.actions.invoke({ name: 'silent', blocking: true, result: true })).toEqual({});
    await wsk.actions.create({ name: 'rejects', action: 'async function main() { throw new TypeError("nope"); }' });
    const rejected = await invokeFailure(wsk.actions.invoke({ name: 'rejects', blocking: true }));
    expect(rejected.record.response).toMatchObject({
      status: 'application error',
      result: { error: { name: 'TypeError', message: 'nope', stack: expect.stringContaining('TypeError: nope') } },
    });
    await wsk.actions.create({ name: 'bare-reject', action: 'function main() { return Promise.reject(); }' });
    expect((await invokeFailure(wsk.actions.invoke({ name: 'bare-reject', blocking: true }))).record.response.result).toEqual({ error: {} });
  });

  test('a runtime that exits while loading the code is a developer error at once, not a timeout', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'quitter', action: 'process.exit(3); function main() { return {}; }', limits: { timeout: 60000 } } as never);
    const failure = await invokeFailure(wsk.actions.invoke({ name: 'quitter', blocking: true }));
    expect(failure.record.response).toMatchObject({ status: 'action developer error', result: { error: 'The action did not initialize and exited unexpectedly.' } });
    expect(annotation(failure.record, 'timeout')).toBe(false);
  });

  test('a thrown error is a developer error and the next invoke gets a fresh container', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'thrower', action: 'function main() { throw new Error("boom"); }' });
    const failure = await invokeFailure(wsk.actions.invoke({ name: 'thrower', blocking: true }));
    expect(failure.statusCode).toBe(502);
    expect(failure.record.response.status).toBe('action developer error');
    expect(JSON.stringify(failure.record.response.result)).toContain('boom');
    const second = await invokeFailure(wsk.actions.invoke({ name: 'thrower', blocking: true }));
    expect(annotation(second.record, 'initTime')).toEqual(expect.any(Number));
  });

  test('an action that exceeds its time limit is stopped and recorded as a developer error', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'sleeper', action: 'function main() { return new Promise(() => {}); }', limits: { timeout: 500 } } as never);
    const failure = await invokeFailure(wsk.actions.invoke({ name: 'sleeper', blocking: true }));
    expect(failure.statusCode).toBe(502);
    const record = failure.record;
    expect(record.response).toMatchObject({
      status: 'action developer error',
      result: { error: 'The action exceeded its time limits of 500 milliseconds.' },
    });
    expect(annotation(record, 'timeout')).toBe(true);
  });

  test('a blocking invoke that outlasts ?timeout answers 202 and the record arrives later', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'slow', action: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 1500)); }' });
    // The openwhisk client does not forward `timeout`, so this request is plain HTTP.
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/slow?blocking=true&timeout=200`, {
      method: 'POST',
      headers: { authorization: basicAuthHeader(env.platform.auth) },
    });
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { activationId: string };
    expect(Object.keys(answer)).toEqual(['activationId']);
    expect(response.headers.get('x-openwhisk-activation-id')).toBe(answer.activationId);
    let record: Record_ | undefined;
    for (let i = 0; i < 100 && !record; i++) {
      record = (await wsk.activations.get({ name: answer.activationId }).catch(() => undefined)) as Record_ | undefined;
      if (!record) await new Promise((r) => setTimeout(r, 100));
    }
    expect(record?.response.result).toEqual({ done: true });
  });

  test('a missing action is a 404 and nothing is queued', async () => {
    await expect(env.wsk().actions.invoke({ name: 'no-such-action', blocking: true })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('large records', () => {
  test('a result and logs too big for one DynamoDB item are stored whole', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({
      name: 'bulky',
      action: `function main() {
        const noise = require('crypto').randomBytes(450 * 1024).toString('base64');
        for (let i = 0; i < 300; i++) console.log(require('crypto').randomBytes(700).toString('hex'));
        return { noise };
      }`,
    });
    const record = (await wsk.actions.invoke({ name: 'bulky', blocking: true })) as Record_;
    expect(String(record.response.result.noise).length).toBeGreaterThan(600_000);
    expect(record.logs).toHaveLength(300);
    const again = (await wsk.activations.get({ name: record.activationId })) as Record_;
    expect(again.response.result).toEqual(record.response.result);
    expect(again.logs).toEqual(record.logs);
    const listed = (await wsk.activations.list({ name: 'bulky', docs: true } as never)) as Record_[];
    expect(listed.map((r) => r.activationId)).toEqual([record.activationId]);
  });
});

describe('activations', () => {
  test('list is newest first and filters by name, since/upto, limit, skip, count and docs', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'listed', action: 'function main(p) { return { i: p.i }; }' });
    const ids: string[] = [];
    const before = Date.now();
    for (let i = 0; i < 4; i++) {
      const record = (await wsk.actions.invoke({ name: 'listed', blocking: true, params: { i } })) as Record_;
      ids.push(record.activationId);
    }
    const after = Date.now();
    const listed = (await wsk.activations.list({ name: 'listed', limit: 10 })) as Array<{ activationId: string; statusCode: number }>;
    expect(listed.map((a) => a.activationId)).toEqual([...ids].reverse());
    expect(listed[0].statusCode).toBe(0);

    const page = (await wsk.activations.list({ name: 'listed', limit: 2, skip: 1 })) as Array<{ activationId: string }>;
    expect(page.map((a) => a.activationId)).toEqual([ids[2], ids[1]]);

    const windowed = (await wsk.activations.list({ since: before, upto: after, limit: 200 } as never)) as Array<{ activationId: string; name: string }>;
    expect(windowed.filter((a) => a.name === 'listed').map((a) => a.activationId)).toEqual([...ids].reverse());
    const none = (await wsk.activations.list({ name: 'listed', since: after + 60_000 } as never)) as unknown[];
    expect(none).toEqual([]);

    const count = await wsk.activations.list({ name: 'listed', count: true } as never);
    expect(count).toEqual({ activations: 4 });

    const docs = (await wsk.activations.list({ name: 'listed', docs: true, limit: 1 } as never)) as Record_[];
    expect(docs[0].response.result).toEqual({ i: 3 });
    expect(docs[0].logs).toEqual([]);
  });

  test('an activation id that is not 32 hex characters is a 400; an unknown one a 404', async () => {
    const wsk = env.wsk();
    await expect(wsk.activations.get({ name: 'not-an-id' })).rejects.toMatchObject({ statusCode: 400 });
    await expect(wsk.activations.get({ name: 'f'.repeat(32) })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('auth and namespaces', () => {
  test('a wrong key is a 401, with no access to anything', async () => {
    const wsk = (await import('openwhisk')).default({ apihost: env.platform.apiHost, api_key: `${env.platform.auth.split(':')[0]}:wrong` });
    await expect(wsk.actions.list()).rejects.toMatchObject({ statusCode: 401 });
    await expect(wsk.actions.invoke({ name: 'hello' })).rejects.toMatchObject({ statusCode: 401 });
  });

  test('REST paths take one trailing slash, as OpenWhisk routes them', async () => {
    const get = (path: string) => fetch(`${env.platform.apiHost}${path}`, { headers: { authorization: basicAuthHeader(env.platform.auth) } });
    expect(await (await get('/api/v1/')).json()).toMatchObject({ api_version_path: 'v1' });
    expect(await (await get('/api/v1/namespaces/')).json()).toEqual(['guest']);
    const actions = await get('/api/v1/namespaces/_/actions/');
    expect(actions.status).toBe(200);
    expect(Array.isArray(await actions.json())).toBe(true);
    // Only one: two slashes name an empty action, which is refused.
    expect((await get('/api/v1/namespaces/_/actions//')).status).toBe(400);
  });

  test('namespaces and limits describe the caller', async () => {
    const wsk = env.wsk();
    expect(await wsk.namespaces.list()).toEqual(['guest']);
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/limits`, {
      headers: { authorization: basicAuthHeader(env.platform.auth) },
    });
    // The suite's guest has its throttles lifted: the overrides show, the rest are the system's.
    expect(await response.json()).toMatchObject({ ...LIFTED_LIMITS, maxActionTimeout: 300000, maxParameterSize: '1048576 B' });
  });
});

describe("Adobe I/O Runtime's log forwarding settings, which aio reads before printing logs", () => {
  const settings = (namespace: string, init: RequestInit & { auth?: string } = {}, sub = '') =>
    fetch(`${env.platform.apiHost}/runtime/namespaces/${namespace}/logForwarding${sub}`, {
      ...init,
      headers: { authorization: basicAuthHeader(init.auth ?? env.platform.auth), 'content-type': 'application/json' },
    });

  test('logs stay with the platform: the one destination is adobe_io_runtime, with no errors', async () => {
    expect(await (await settings('guest')).json()).toEqual({ adobe_io_runtime: {} });
    expect(await (await settings('guest', {}, '/errors')).json()).toEqual({ destination: 'adobe_io_runtime', errors: [] });
    const kept = await settings('guest', { method: 'PUT', body: JSON.stringify({ adobe_io_runtime: {} }) });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toEqual({ adobe_io_runtime: {} });
  });

  test('forwarding elsewhere, a malformed setting, another namespace or a wrong key is refused', async () => {
    const elsewhere = await settings('guest', { method: 'PUT', body: JSON.stringify({ splunk_hec: { host: 'h', port: '1', index: 'i', hec_token: 't' } }) });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.json()).toMatchObject({ error: expect.stringContaining("Log forwarding to 'splunk_hec' is not supported"), code: expect.any(String) });
    expect((await settings('guest', { method: 'PUT', body: JSON.stringify({ a: {}, b: {} }) })).status).toBe(400);
    expect((await settings('guest', { method: 'PUT', body: '[1]' })).status).toBe(400);
    expect((await settings('someone-else')).status).toBe(403);
    expect((await settings('guest', { auth: `${env.platform.auth.split(':')[0]}:wrong` })).status).toBe(401);
    // Still the platform's own destination after the refusals.
    expect(await (await settings('guest')).json()).toEqual({ adobe_io_runtime: {} });
  });
});

describe('the access log', () => {
  test('each request leaves one line in controller.log, without its query or any header', async () => {
    const transactionId = `access-log-${Date.now()}`;
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/no-such?blocking=true&secret=s3cr3t`, {
      method: 'POST',
      headers: { authorization: basicAuthHeader(env.platform.auth), 'x-request-id': transactionId },
    });
    expect(response.status).toBe(404);
    const logFile = join(env.dataDir, 'logs', 'controller.log');
    let lines: string[] = [];
    for (let i = 0; i < 50 && lines.length === 0; i++) {
      lines = readFileSync(logFile, 'utf8').split('\n').filter((line) => line.includes(transactionId));
      if (lines.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'request', method: 'POST', path: '/api/v1/namespaces/_/actions/no-such', status: 404, namespace: 'guest', ms: expect.any(Number) });
    expect(lines[0]).not.toContain('s3cr3t');
    expect(lines[0]).not.toContain(env.platform.auth.split(':')[1]);
  });
});

describe('platform documents and CORS', () => {
  test('GET / and GET /api/v1 describe the platform without auth', async () => {
    const root = (await (await fetch(`${env.platform.apiHost}/`)).json()) as Record<string, unknown>;
    expect(root).toMatchObject({
      description: 'OpenWhisk',
      api_paths: ['/api/v1'],
      limits: { actions_per_minute: 60, concurrent_actions: 30, max_action_duration: 300000, max_action_memory: 512 * 1024 * 1024 },
      runtimes: {
        nodejs: [
          expect.objectContaining({ kind: 'nodejs:22', default: true, attached: true, requireMain: false }),
          expect.objectContaining({ kind: 'nodejs:20', default: false }),
        ],
      },
    });
    expect(await (await fetch(`${env.platform.apiHost}/api/v1`)).json()).toMatchObject({ api_version: '1.0.0', api_version_path: 'v1' });
  });

  test('OPTIONS answers 200 with OpenWhisk CORS headers, and every answer carries them', async () => {
    const preflight = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/hello`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, DELETE, POST, PUT, HEAD');
    const denied = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('restart', () => {
  test('stopping the platform lets an activation in flight finish first', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'finisher', action: 'function main() { return new Promise((r) => setTimeout(() => r({ finished: true }), 1500)); }' });
    const { activationId } = await wsk.actions.invoke({ name: 'finisher' });
    // Give the invoker time to take the message, then stop everything.
    await new Promise((r) => setTimeout(r, 500));
    await env.restart();
    const record = (await env.wsk().activations.get({ name: activationId })) as Record_;
    expect(record.response).toMatchObject({ status: 'success', result: { finished: true } });
  });

  test('after a restart every action and activation is found again', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'durable', action: HELLO });
    const record = (await wsk.actions.invoke({ name: 'durable', blocking: true, params: { name: 'before' } })) as Record_;
    const actionsBefore = (await wsk.actions.list({ limit: 200 })).map((a: { name?: string }) => a.name).sort();
    await env.restart();
    const after = env.wsk();
    expect((await after.actions.list({ limit: 200 })).map((a: { name?: string }) => a.name).sort()).toEqual(actionsBefore);
    expect(((await after.activations.get({ name: record.activationId })) as Record_).response.result).toEqual({ greeting: 'Hello before' });
    expect(await after.actions.invoke({ name: 'durable', blocking: true, result: true, params: { name: 'after' } })).toEqual({ greeting: 'Hello after' });
  });
});
