import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { configFromEnv } from '../../lib/config';
import { ThrottleCounters } from '../../lib/store/throttle-counters';
import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { LIFTED_LIMITS, basicAuthHeader, clientForNewNamespace, startTestPlatform, type TestPlatform } from '../helpers/platform';

// OpenWhisk's per-namespace throttles, each with its 429 and its recovery, counted in the shared
// coordination table: a second controller process on the same store sees the same counts.

let env: TestPlatform;
let secondController: ManagedProcess;
let hostB: string;

beforeAll(async () => {
  env = await startTestPlatform();
  secondController = await startProcess('controller-b', 'local/controller-main.ts', { ...env.platform.invokerEnv, SKYWHISK_PORT: '0', SKYWHISK_HOST: '127.0.0.1' }, join(env.dataDir, 'logs'));
  hostB = `http://127.0.0.1:${secondController.ready.port}`;
}, 120_000);

afterAll(async () => {
  if (secondController) await stopProcess(secondController, 10_000);
  await env?.stop();
});

interface Answer {
  status: number;
  body: { activationId?: string; error?: string; code?: string };
}

async function call(host: string, auth: string, method: string, path: string, body: unknown = {}): Promise<Answer> {
  const response = await fetch(`${host}/api/v1/namespaces/_/${path}`, {
    method,
    headers: { authorization: basicAuthHeader(auth), 'content-type': 'application/json' },
    body: method === 'GET' ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

async function namespaceWith(name: string, limits: object): Promise<string> {
  const { auth } = await clientForNewNamespace(env, name, { ...LIFTED_LIMITS, ...limits });
  return auth;
}

/** Waits until a fresh minute window has at least `needMs` left, so a burst falls in one window. */
async function windowWithRoom(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((r) => setTimeout(r, left + 50));
}

async function nextWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, 60_000 - (Date.now() % 60_000) + 50));
}

async function recordOf(auth: string, id: string): Promise<{ response: { status: string } } | undefined> {
  for (let i = 0; i < 200; i++) {
    const answer = await call(env.platform.apiHost, auth, 'GET', `activations/${id}`);
    if (answer.status === 200) return answer.body as never;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

test('invocations and fires per minute: over the limit is a 429 with OpenWhisk’s message on either controller, nothing runs, and the next minute admits again', async () => {
  const rate = await namespaceWith('rate-limited', { invocationsPerMinute: 4 });
  const fires = await namespaceWith('fire-limited', { firesPerMinute: 2 });
  const controllerA = env.platform.apiHost;
  expect((await call(controllerA, rate, 'PUT', 'actions/noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } })).status).toBe(200);
  expect((await call(controllerA, fires, 'PUT', 'actions/noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } })).status).toBe(200);
  expect((await call(controllerA, fires, 'PUT', 'triggers/tick', {})).status).toBe(200);
  expect((await call(controllerA, fires, 'PUT', 'rules/tock', { trigger: '/_/tick', action: '/_/noop' })).status).toBe(200);

  await windowWithRoom(20_000);
  const admitted = [
    await call(controllerA, rate, 'POST', 'actions/noop'),
    await call(hostB, rate, 'POST', 'actions/noop'),
    await call(controllerA, rate, 'POST', 'actions/noop'),
    await call(hostB, rate, 'POST', 'actions/noop'),
  ];
  expect(admitted.map((a) => a.status)).toEqual([202, 202, 202, 202]);
  const overA = await call(controllerA, rate, 'POST', 'actions/noop');
  const overB = await call(hostB, rate, 'POST', 'actions/noop');
  expect(overA).toEqual({ status: 429, body: { error: 'Too many requests in the last minute (count: 5, allowed: 4).', code: expect.any(String) } });
  expect(overB).toEqual({ status: 429, body: { error: 'Too many requests in the last minute (count: 6, allowed: 4).', code: expect.any(String) } });

  const fired = [await call(controllerA, fires, 'POST', 'triggers/tick'), await call(hostB, fires, 'POST', 'triggers/tick')];
  expect(fired.map((a) => a.status)).toEqual([202, 202]);
  const overFire = await call(hostB, fires, 'POST', 'triggers/tick');
  expect(overFire).toEqual({ status: 429, body: { error: 'Too many requests in the last minute (count: 3, allowed: 2).', code: expect.any(String) } });

  // Only the admitted ones ran: four action records.
  for (const { body } of admitted) expect((await recordOf(rate, body.activationId!))?.response.status).toBe('success');
  const listed = await call(controllerA, rate, 'GET', 'activations?limit=50');
  expect((listed.body as unknown as unknown[]).length).toBe(4);

  await nextWindow();
  expect((await call(hostB, rate, 'POST', 'actions/noop')).status).toBe(202);
  expect((await call(controllerA, fires, 'POST', 'triggers/tick')).status).toBe(202);
}, 240_000);

test('concurrent activations: the one over the limit is a 429 while the others run, and a slot frees when a record is stored', async () => {
  const auth = await namespaceWith('concurrency-limited', { concurrentInvocations: 2 });
  const host = env.platform.apiHost;
  await call(host, auth, 'PUT', 'actions/slow', { exec: { kind: 'nodejs:20', code: 'function main() { return new Promise((r) => setTimeout(() => r({ done: true }), 2000)); }' } });
  const running = [await call(host, auth, 'POST', 'actions/slow'), await call(hostB, auth, 'POST', 'actions/slow')];
  expect(running.map((a) => a.status)).toEqual([202, 202]);
  const over = await call(hostB, auth, 'POST', 'actions/slow');
  expect(over).toEqual({ status: 429, body: { error: 'Too many concurrent requests in flight (count: 2, allowed: 2).', code: expect.any(String) } });

  for (const { body } of running) expect((await recordOf(auth, body.activationId!))?.response.status).toBe('success');
  // Both records are stored: both slots are back (given back right after each record).
  let again: Answer | undefined;
  for (let i = 0; i < 20 && again?.status !== 200; i++) {
    again = await call(host, auth, 'POST', 'actions/slow?blocking=true');
    if (again.status !== 200) await new Promise((r) => setTimeout(r, 100));
  }
  expect(again?.status).toBe(200);
}, 60_000);

test('a concurrency limit of 0 blocks a namespace that never invoked', async () => {
  const auth = await namespaceWith('no-slots', { concurrentInvocations: 0 });
  const host = env.platform.apiHost;
  await call(host, auth, 'PUT', 'actions/noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } });
  expect(await call(host, auth, 'POST', 'actions/noop')).toMatchObject({ status: 429, body: { error: 'Too many concurrent requests in flight (count: 0, allowed: 0).' } });
  expect(await call(host, auth, 'GET', 'activations')).toMatchObject({ status: 200, body: [] });
});

test('a limit of 0 blocks the namespace; the limits document shows each override', async () => {
  const auth = await namespaceWith('blocked', { invocationsPerMinute: 0, firesPerMinute: 0 });
  const host = env.platform.apiHost;
  await call(host, auth, 'PUT', 'actions/noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } });
  await call(host, auth, 'PUT', 'triggers/t', {});
  expect(await call(host, auth, 'POST', 'actions/noop')).toMatchObject({ status: 429, body: { error: 'Too many requests in the last minute (count: 1, allowed: 0).' } });
  expect(await call(host, auth, 'POST', 'triggers/t')).toMatchObject({ status: 429, body: { error: 'Too many requests in the last minute (count: 1, allowed: 0).' } });
  const limits = await call(host, auth, 'GET', '../_/limits');
  expect(limits.body).toMatchObject({ invocationsPerMinute: 0, firesPerMinute: 0, concurrentInvocations: LIFTED_LIMITS.concurrentInvocations, maxActionMemory: 512 });
});

test('a namespace without overrides gets OpenWhisk’s defaults: 60 per minute, 30 in flight, 60 fires per minute', async () => {
  const { auth } = await clientForNewNamespace(env, 'defaults', {});
  const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/limits`, { headers: { authorization: basicAuthHeader(auth) } });
  expect(await response.json()).toMatchObject({ invocationsPerMinute: 60, concurrentInvocations: 30, firesPerMinute: 60 });
});

test('a busy namespace is admitted from shares of its limits; a controller that stops gives back what it reserved', async () => {
  // A share that lives a minute, so that only the stop can end it.
  const controllerC = await startProcess('controller-c', 'local/controller-main.ts', { ...env.platform.invokerEnv, SKYWHISK_PORT: '0', SKYWHISK_HOST: '127.0.0.1', SKYWHISK_ADMISSION_SHARE_MS: '60000' }, join(env.dataDir, 'logs'));
  const hostC = `http://127.0.0.1:${controllerC.ready.port}`;
  const auth = await namespaceWith('shared-admission', { concurrentInvocations: 1000 });
  await call(hostC, auth, 'PUT', 'actions/noop', { exec: { kind: 'nodejs:20', code: 'function main() { return {}; }' } });
  try {
    await windowWithRoom(20_000);
    for (let i = 0; i < 5; i++) expect((await call(hostC, auth, 'POST', 'actions/noop?blocking=true')).status).toBe(200);
    // All five recorded: in flight now are only the admissions controller C reserved.
    const counters = new ThrottleCounters(env.clients.dynamo, configFromEnv({}).tables.coordination);
    const reserved = await counters.inFlight('shared-admission');
    expect(reserved).toBeGreaterThan(0);
    await stopProcess(controllerC, 10_000);
    expect(await counters.inFlight('shared-admission')).toBe(0);
    const item = await env.clients.dynamo.send(new GetCommand({ TableName: configFromEnv({}).tables.coordination, Key: { pk: 'throttle#shared-admission', sk: 'admission' }, ConsistentRead: true }));
    expect(Object.keys(item.Item ?? {}).filter((name) => name.startsWith('share_'))).toEqual([]);
    expect(item.Item).toMatchObject({ minuteCount: 5 });
  } finally {
    if (controllerC.child.exitCode === null) await stopProcess(controllerC, 10_000);
  }
}, 60_000);
