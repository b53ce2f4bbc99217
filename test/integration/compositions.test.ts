import { waitForRecord } from '../../lib/bus/result-waiter';
import { configFromEnv } from '../../lib/config';
import type { ActivationRecord } from '../../lib/model/activation';
import { ActivationsRepository } from '../../lib/store/activations';
import { basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';

// Sequences and conductor actions, run by the invoker: records, causes, short-circuits, limits.

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform();
  const ow = env.wsk();
  await ow.actions.create({ name: 'echo', action: 'function main(p) { return p; }' });
  await ow.actions.create({ name: 'inc', action: 'function main(p) { return { n: (p.n || 0) + 1 }; }' });
  await ow.actions.create({ name: 'fail', action: "function main() { return { error: 'boom' }; }" });
  await ow.actions.create({ name: 'slow', action: 'function main(p) { return new Promise((r) => setTimeout(() => r(p), 1500)); }' });
  await ow.packages.create({ name: 'pkg', package: { parameters: [{ key: 'fromPackage', value: true }] } });
  await ow.actions.create({ name: 'pkg/tag', action: 'function main(p) { return { ...p, tagged: true }; }' });
});

afterAll(async () => {
  await env?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/${path}`, {
    method,
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

function sequence(name: string, components: string[]) {
  return api('PUT', `namespaces/_/actions/${name}?overwrite=true`, { exec: { kind: 'sequence', components } });
}

async function record(activationId: string): Promise<ActivationRecord> {
  const activations = new ActivationsRepository(env.clients.dynamo, configFromEnv({}).tables.activations, 1);
  const found = await waitForRecord(activations, 'guest', activationId, 60_000);
  if (!found) throw new Error(`no record for ${activationId}`);
  return found;
}

const annotation = (r: { annotations: Array<{ key: string; value: unknown }> }, key: string) => r.annotations.find((a) => a.key === key)?.value;

test('a sequence passes each result to the next component and records every step', async () => {
  const created = await sequence('chain', ['/guest/inc', '/_/inc', 'guest/pkg/tag']);
  expect(created.body.exec).toEqual({ kind: 'sequence', components: ['/guest/inc', '/guest/inc', '/guest/pkg/tag'] });
  // OpenWhisk's shape, which aio's `deploy export` reads: the components again as `_actions`.
  const asActions = [{ key: '_actions', value: ['/guest/inc', '/guest/inc', '/guest/pkg/tag'] }];
  expect(created.body.parameters).toEqual(asActions);
  expect((await api('GET', 'namespaces/_/actions/chain')).body.parameters).toEqual(asActions);
  // A sequence in a package shows the package's parameters too, with `_actions` after them.
  await sequence('pkg/chain', ['/guest/inc']);
  expect((await api('GET', 'namespaces/_/actions/pkg/chain')).body.parameters).toEqual([
    { key: 'fromPackage', value: true },
    { key: '_actions', value: ['/guest/inc'] },
  ]);
  const invoked = await api('POST', 'namespaces/_/actions/chain?blocking=true', { n: 1 });
  expect(invoked.status).toBe(200);
  expect(invoked.body.response).toMatchObject({ success: true, result: { n: 3, tagged: true, fromPackage: true } });
  expect(invoked.body.response.result).not.toHaveProperty('_actions');
  expect(invoked.body.logs).toHaveLength(3);
  expect(annotation(invoked.body, 'kind')).toBe('sequence');
  expect(annotation(invoked.body, 'topmost')).toBe(true);
  const components = await Promise.all(invoked.body.logs.map(record));
  expect(components.map((c) => c.name)).toEqual(['inc', 'inc', 'tag']);
  for (const component of components) {
    expect(component.cause).toBe(invoked.body.activationId);
    expect(annotation(component, 'causedBy')).toBe('sequence');
  }
  expect(invoked.body.duration).toBe(components.reduce((sum, c) => sum + (c.duration ?? 0), 0));
});

test('the first failing component ends the sequence with its error', async () => {
  await sequence('broken', ['/guest/inc', '/guest/fail', '/guest/inc']);
  const invoked = await api('POST', 'namespaces/_/actions/broken?blocking=true', {});
  expect(invoked.status).toBe(502);
  expect(invoked.body.response).toMatchObject({ success: false, status: 'application error', result: { error: 'boom' } });
  expect(invoked.body.logs).toHaveLength(2);
  const result = await api('POST', 'namespaces/_/actions/broken?blocking=true&result=true', {});
  expect(result).toEqual({ status: 502, body: { error: 'boom' } });
});

test('nested sequences: the inner one is a component with its own record and components', async () => {
  await sequence('inner', ['/guest/inc', '/guest/inc']);
  await sequence('outer', ['/guest/inner', '/guest/inc']);
  const invoked = await api('POST', 'namespaces/_/actions/outer?blocking=true', { n: 0 });
  expect(invoked.body.response.result).toEqual({ n: 3 });
  const [innerRecord, last] = await Promise.all(invoked.body.logs.map(record));
  expect(innerRecord).toMatchObject({ name: 'inner', cause: invoked.body.activationId });
  expect(annotation(innerRecord, 'topmost')).toBe(false);
  expect(last.name).toBe('inc');
  for (const id of innerRecord.logs) expect((await record(id)).cause).toBe(innerRecord.activationId);
});

test('sequence definitions are checked: existence, cycles, and at most 50 atomic actions after inlining', async () => {
  await sequence('loopA', ['/guest/inc']);
  await sequence('loopB', ['/guest/loopA']);
  const cases: Array<[string, string[], RegExp]> = [
    ['selfish', ['/guest/inc', '/guest/selfish'], /Sequence may not refer to itself/],
    ['loopA', ['/guest/loopB'], /Sequence may not refer to itself/],
    ['ghost', ['/guest/inc', '/guest/nothing'], /Sequence component does not exist/],
    ['toolong', Array.from({ length: 51 }, () => '/guest/inc'), /Too many actions in the sequence/],
    ['empty', [], /^No component specified for the sequence\.$/],
    ['badname', ['a/b/c/d'], /malformed/],
  ];
  for (const [name, components, error] of cases) {
    const response = await api('PUT', `namespaces/_/actions/${name}?overwrite=true`, { exec: { kind: 'sequence', components } });
    expect([name, response.status]).toEqual([name, 400]);
    expect(response.body.error).toMatch(error);
  }
  // 26 + 25 atomic actions through nesting is still too many.
  await sequence('half', Array.from({ length: 26 }, () => '/guest/inc'));
  const nested = await sequence('double', ['/guest/half', ...Array.from({ length: 25 }, () => '/guest/inc')]);
  expect(nested).toMatchObject({ status: 400, body: { error: 'Too many actions in the sequence.' } });
  expect((await sequence('justRight', ['/guest/half', ...Array.from({ length: 24 }, () => '/guest/inc')])).status).toBe(200);
});

test('a sequence outlives the blocking wait: the caller gets 202 and the chain still completes', async () => {
  await sequence('patient', ['/guest/slow', '/guest/slow']);
  const invoked = await api('POST', 'namespaces/_/actions/patient?blocking=true&timeout=500', { v: 1 });
  expect(invoked.status).toBe(202);
  const finished = await record(invoked.body.activationId);
  expect(finished.response.result).toEqual({ v: 1 });
  expect(finished.logs).toHaveLength(2);
});

const COUNTER_CONDUCTOR = `function main(p) {
  if (p.error) return { params: { failedWith: p.error } };
  const count = p.count || 0;
  if (count >= 3) return { params: { n: p.n, steps: count } };
  return { action: p.next || 'inc', params: { n: p.n || 0 }, state: { count: count + 1, next: p.next } };
}`;

test('a conductor follows its continuations, merging each component result with the state', async () => {
  await env.wsk().actions.create({ name: 'counter', action: COUNTER_CONDUCTOR, annotations: { conductor: true } } as any);
  const invoked = await api('POST', 'namespaces/_/actions/counter?blocking=true', { n: 10 });
  expect(invoked.status).toBe(200);
  expect(invoked.body.response.result).toEqual({ n: 13, steps: 3 });
  expect(annotation(invoked.body, 'conductor')).toBe(true);
  expect(annotation(invoked.body, 'kind')).toBe('sequence');
  // Four conductor steps and three components, in order.
  const children = await Promise.all(invoked.body.logs.map(record));
  expect(children.map((c) => c.name)).toEqual(['counter', 'inc', 'counter', 'inc', 'counter', 'inc', 'counter']);
  for (const child of children) expect(child.cause).toBe(invoked.body.activationId);
});

test('a conductor is told about components that fail or cannot be found', async () => {
  const failing = await api('POST', 'namespaces/_/actions/counter?blocking=true', { next: 'fail' });
  expect(failing.body.response.result).toEqual({ failedWith: 'boom' });
  const missing = await api('POST', 'namespaces/_/actions/counter?blocking=true', { next: 'nowhere' });
  expect(missing.body.response.result).toEqual({ failedWith: "Failed to resolve action with name 'nowhere' during composition." });
  const forbidden = await api('POST', 'namespaces/_/actions/counter?blocking=true', { next: '/other/thing' });
  expect(forbidden.body.response.result).toEqual({ failedWith: "Failed entitlement check for action with name '/other/thing' during composition." });
});

test('a conductor that never stops is cut off after 2n+1 steps, with n components at most', async () => {
  await env.wsk().actions.create({ name: 'forever', action: "function main(p) { return { action: 'inc', params: { n: 1 } }; }", annotations: { conductor: true } } as any);
  const invoked = await api('POST', 'namespaces/_/actions/forever?blocking=true', {});
  expect(invoked.status).toBe(502);
  expect(invoked.body.response).toMatchObject({ status: 'application error', result: { error: 'Too many actions in the composition.' } });
  const children = await Promise.all(invoked.body.logs.map(record));
  expect(children.filter((c) => c.name === 'forever')).toHaveLength(101);
  expect(children.filter((c) => c.name === 'inc')).toHaveLength(50);
});

test('a conductor step that errors ends the composition with that error', async () => {
  await env.wsk().actions.create({ name: 'quitter', action: "function main() { return { error: 'conductor gave up' }; }", annotations: { conductor: true } } as any);
  const invoked = await api('POST', 'namespaces/_/actions/quitter?blocking=true', {});
  expect(invoked.status).toBe(502);
  expect(invoked.body.response.result).toEqual({ error: 'conductor gave up' });
  expect(invoked.body.logs).toHaveLength(1);
});
