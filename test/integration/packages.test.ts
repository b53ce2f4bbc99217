import { basicAuthHeader, clientForNewNamespace, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// Packages, bindings and sharing through the `openwhisk` npm client, as a user of OpenWhisk works.

let env: TestPlatform;
let alice: Awaited<ReturnType<typeof clientForNewNamespace>>;
const ECHO = 'function main(params) { return params; }';

beforeAll(async () => {
  env = await startTestPlatform();
  alice = await clientForNewNamespace(env, 'alice');
});

afterAll(async () => {
  await env?.stop();
});

async function api(method: string, path: string, body?: unknown, auth = env.platform.auth): Promise<{ status: number; body: any }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/${path}`, {
    method,
    headers: { authorization: basicAuthHeader(auth), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

test('package create, get with its actions, update bumps the version, list, and 409 without overwrite', async () => {
  const ow = env.wsk();
  const created: any = await ow.packages.create({ name: 'tools', package: { parameters: [{ key: 'p', value: 1 }] } });
  expect(created).toMatchObject({ namespace: 'guest', name: 'tools', version: '0.0.1', publish: false, binding: {}, parameters: [{ key: 'p', value: 1 }] });
  await ow.actions.create({ name: 'tools/echo', action: ECHO });
  const pkg: any = await ow.packages.get({ name: 'tools' });
  expect(pkg.actions.map((a: { name: string }) => a.name)).toEqual(['echo']);

  expect((await api('PUT', 'namespaces/_/packages/tools', {})).status).toBe(409);
  const updated: any = await ow.packages.update({ name: 'tools', package: { publish: true } });
  expect(updated).toMatchObject({ version: '0.0.2', publish: true, parameters: [{ key: 'p', value: 1 }] });

  const list: any[] = await ow.packages.list();
  expect(list.map((p) => p.name)).toContain('tools');
  // A listing says `binding: false` for a package, as OpenWhisk's does (aio shows `{}` as a binding).
  expect(list.find((p) => p.name === 'tools').binding).toBe(false);
  expect((await api('GET', 'namespaces/_/packages?count=true')).body).toEqual({ packages: list.length });
  // Actions in a package show in the package listing route, not as top-level names.
  expect(((await api('GET', 'namespaces/_/actions/tools/')).body as any[]).map((a) => a.namespace)).toEqual(['guest/tools']);
  expect((await api('GET', 'namespaces/_/actions/tools/?count=true')).body).toEqual({ actions: 1 });
  // As OpenWhisk's store counts, a count with skip is what a listing with that skip pages through.
  expect((await api('GET', 'namespaces/_/actions/tools/?count=true&skip=1')).body).toEqual({ actions: 0 });
  expect((await api('GET', `namespaces/_/packages?count=true&skip=1`)).body).toEqual({ packages: list.length - 1 });
});

test('a name freed in one collection can be taken in another; names inside a package never clash', async () => {
  const ow = env.wsk();
  await ow.actions.create({ name: 'shared', action: 'function main() { return {}; }' });
  expect((await api('PUT', 'namespaces/_/packages/shared', {})).status).toBe(409);
  await ow.actions.delete({ name: 'shared' });
  expect((await api('PUT', 'namespaces/_/packages/shared', {})).status).toBe(200);
  // `shared/shared` is the package's action, and a trigger `inner` beside an action `shared/inner` is fine.
  await ow.actions.create({ name: 'shared/shared', action: 'function main() { return { inside: true }; }' });
  await ow.actions.create({ name: 'shared/inner', action: 'function main() { return {}; }' });
  expect((await api('PUT', 'namespaces/_/triggers/inner', {})).status).toBe(200);
  expect(await ow.actions.invoke({ name: 'shared/shared', blocking: true, result: true })).toEqual({ inside: true });
  await ow.triggers.delete({ name: 'inner' });
  expect((await api('DELETE', 'namespaces/_/packages/shared?force=true')).status).toBe(200);
});

test("another tenant never learns a namespace's names from the 409: it gets 403 or 404 as before", async () => {
  const ow = env.wsk();
  await ow.actions.create({ name: 'secretAction', action: ECHO });
  await ow.triggers.create({ name: 'secretTrigger' });
  await ow.packages.create({ name: 'openShelf', package: { publish: true } });
  // Alice probes the guest's names through every route whose own-namespace answer would be the 409.
  // Today the 403 of another namespace comes first; `conforming` refusing other namespaces is the
  // second line, and this test holds whichever of the two a later change weakens.
  const probes: Array<[string, string]> = [
    ['GET', 'namespaces/guest/packages/secretAction'],
    ['GET', 'namespaces/guest/actions/secretTrigger'],
    ['POST', 'namespaces/guest/actions/secretTrigger'],
    ['GET', 'namespaces/guest/actions/secretAction/'],
    ['GET', 'namespaces/guest/actions/secretAction/inner'],
    ['GET', 'namespaces/guest/actions/openShelf/secretTrigger'],
    ['GET', 'namespaces/guest/triggers/secretAction'],
    ['PUT', 'namespaces/guest/packages/secretAction'],
  ];
  for (const [method, path] of probes) {
    const { status } = await api(method, path, method === 'GET' ? undefined : {}, alice.auth);
    expect([403, 404].includes(status) ? 'hidden' : `${method} ${path} answered ${status}`).toBe('hidden');
  }
  await ow.actions.delete({ name: 'secretAction' });
  await ow.triggers.delete({ name: 'secretTrigger' });
  await ow.packages.delete({ name: 'openShelf' });
});

test('a non-empty package is deleted only with force, and its actions go with it', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'doomed' });
  await ow.actions.create({ name: 'doomed/a', action: ECHO });
  const refused = await api('DELETE', 'namespaces/_/packages/doomed');
  expect(refused).toMatchObject({ status: 409, body: { error: 'Package not empty (contains 1 entity). Set force param or delete package contents.' } });
  expect((await api('DELETE', 'namespaces/_/packages/doomed?force=true')).status).toBe(200);
  expect((await api('GET', 'namespaces/_/actions/doomed/a')).status).toBe(404);
  expect((await api('GET', 'namespaces/_/packages/doomed')).status).toBe(404);
});

test('an action is addressed by every OpenWhisk name form', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'forms' });
  await ow.actions.create({ name: 'forms/echo', action: ECHO });
  await ow.actions.create({ name: 'plain', action: ECHO });
  for (const name of ['plain', '/guest/plain', '/_/plain', 'forms/echo', '/guest/forms/echo']) {
    expect(await ow.actions.invoke({ name, blocking: true, result: true, params: { via: name } })).toEqual({ via: name });
  }
  const got: any = await ow.actions.get({ name: '/guest/forms/echo' });
  expect(got).toMatchObject({ namespace: 'guest/forms', name: 'echo' });
});

test('parameters merge package < binding < action < invoke, in every combination', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'layers', package: { parameters: ['p', 'pb', 'pa', 'pi', 'pba', 'pbai'].map((key) => ({ key, value: 'package' })) } });
  await ow.actions.create({ name: 'layers/show', action: ECHO, params: { a: 'action', pa: 'action', ba: 'action', pba: 'action', ai: 'action', pbai: 'action' } });
  await ow.packages.create({ name: 'layered', package: { binding: { namespace: 'guest', name: 'layers' }, parameters: ['b', 'pb', 'ba', 'pba', 'bi', 'pbai'].map((key) => ({ key, value: 'binding' })) } });
  const result = await ow.actions.invoke({ name: 'layered/show', blocking: true, result: true, params: { i: 'invoke', pi: 'invoke', ai: 'invoke', bi: 'invoke', pbai: 'invoke' } });
  expect(result).toEqual({
    p: 'package', pb: 'binding', pa: 'action', pi: 'invoke', pba: 'action', pbai: 'invoke',
    a: 'action', ba: 'action', ai: 'invoke',
    b: 'binding', bi: 'invoke',
    i: 'invoke',
  });
  // Without the binding: package < action < invoke.
  expect(await ow.actions.invoke({ name: 'layers/show', blocking: true, result: true, params: { pi: 'invoke' } })).toMatchObject({ p: 'package', pa: 'action', pi: 'invoke', pb: 'package' });
  // GET through the binding shows the merged parameters.
  const got: any = await ow.actions.get({ name: 'layered/show' });
  expect(Object.fromEntries(got.parameters.map((p: { key: string; value: unknown }) => [p.key, p.value]))).toMatchObject({ pb: 'binding', pba: 'action' });
  // A listing names the bound package of a binding.
  const listed: any[] = await ow.packages.list();
  expect(listed.find((p) => p.name === 'layered').binding).toEqual({ namespace: 'guest', name: 'layers' });
});

test('final parameters from the package, binding or action cannot be overridden by the payload', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'fixed', package: { parameters: [{ key: 'fromPackage', value: 1 }] } });
  await ow.actions.create({ name: 'fixed/run', action: ECHO, params: { fromAction: 2 }, annotations: { final: true } } as any);
  for (const key of ['fromPackage', 'fromAction']) {
    const refused = await api('POST', 'namespaces/_/actions/fixed/run?blocking=true', { [key]: 'override' });
    expect(refused).toMatchObject({ status: 400, body: { error: 'Request defines parameters that are not allowed (e.g., reserved properties).' } });
  }
  expect(await ow.actions.invoke({ name: 'fixed/run', blocking: true, result: true, params: { other: 3 } })).toEqual({ fromPackage: 1, fromAction: 2, other: 3 });
});

test('a published package is shared: other namespaces read, bind and invoke it, and see nothing else', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'shared', package: { publish: true, parameters: [{ key: 'owner', value: 'guest' }] } });
  await ow.actions.create({ name: 'shared/hello', action: ECHO });
  await ow.packages.create({ name: 'private' });
  await ow.actions.create({ name: 'private/secret', action: ECHO });
  await ow.actions.create({ name: 'toplevel', action: ECHO });

  const visible: any[] = await alice.wsk.packages.list({ namespace: 'guest' } as any);
  expect(visible.map((p) => p.name)).toContain('shared');
  expect(visible.every((p) => p.publish)).toBe(true);
  expect(((await alice.wsk.packages.get({ name: '/guest/shared' })) as any).actions.map((a: any) => a.name)).toEqual(['hello']);

  // Invoked directly by its full name: the record belongs to the caller.
  const record: any = await alice.wsk.actions.invoke({ name: '/guest/shared/hello', blocking: true, params: { by: 'alice' } });
  expect(record).toMatchObject({ namespace: 'alice', response: { result: { owner: 'guest', by: 'alice' } } });
  expect((await api('GET', `namespaces/_/activations/${record.activationId}`)).status).toBe(404);

  // Through alice's own binding.
  await alice.wsk.packages.create({ name: 'mine', package: { binding: { namespace: 'guest', name: 'shared' }, parameters: [{ key: 'owner', value: 'alice' }] } });
  const viaBinding: any = await alice.wsk.actions.invoke({ name: 'mine/hello', blocking: true });
  expect(viaBinding.response.result).toEqual({ owner: 'alice' });
  expect(viaBinding.annotations).toEqual(expect.arrayContaining([{ key: 'binding', value: 'alice/mine' }, { key: 'path', value: 'guest/shared/hello' }]));

  // Everything unpublished stays private.
  for (const [method, path] of [
    ['GET', 'namespaces/guest/packages/private'],
    ['GET', 'namespaces/guest/actions/private/secret'],
    ['POST', 'namespaces/guest/actions/private/secret'],
    ['POST', 'namespaces/guest/actions/toplevel'],
    ['GET', 'namespaces/guest/actions'],
    ['GET', 'namespaces/guest/triggers'],
    ['PUT', 'namespaces/guest/packages/shared?overwrite=true'],
    ['DELETE', 'namespaces/guest/actions/shared/hello'],
  ] as const) {
    expect([method, path, (await api(method, path, method === 'PUT' ? {} : undefined, alice.auth)).status]).toEqual([method, path, 403]);
  }
  const privateBinding = await api('PUT', 'namespaces/_/packages/sneaky', { binding: { namespace: 'guest', name: 'private' } }, alice.auth);
  expect(privateBinding.status).toBe(403);
});

test('bindings refuse what OpenWhisk refuses, and refusals write nothing', async () => {
  const ow = env.wsk();
  await ow.packages.create({ name: 'base' });
  await ow.packages.create({ name: 'bound', package: { binding: { namespace: 'guest', name: 'base' } } });
  await ow.packages.create({ name: 'plainpkg' });
  const before = await dumpStore(env.clients);
  const cases: Array<[string, string, unknown, number, RegExp]> = [
    ['PUT', 'namespaces/_/actions/bound/a', { exec: { kind: 'nodejs:20', code: ECHO } }, 400, /Operation not permitted on package binding/],
    ['DELETE', 'namespaces/_/actions/bound/a', undefined, 400, /Operation not permitted on package binding/],
    ['PUT', 'namespaces/_/packages/b2', { binding: { namespace: 'guest', name: 'bound' } }, 400, /Cannot bind to another package binding/],
    ['PUT', 'namespaces/_/packages/b3', { binding: { namespace: 'guest', name: 'nothing' } }, 400, /Binding references a package that does not exist/],
    ['PUT', 'namespaces/_/packages/plainpkg?overwrite=true', { binding: { namespace: 'guest', name: 'base' } }, 409, /cannot be converted into a binding/],
    ['PUT', 'namespaces/_/packages/default', {}, 400, /reserved/],
    ['PUT', 'namespaces/_/actions/nopkg/a', { exec: { kind: 'nodejs:20', code: ECHO } }, 404, /does not exist/],
    ['PUT', 'namespaces/_/packages/bad', { parameters: 'x' }, 400, /malformed/],
    ['PUT', 'namespaces/_/packages/bad', { binding: { namespace: 3 } }, 400, /malformed/],
    ['PUT', 'namespaces/_/packages/bad', { publish: 'yes' }, 400, /malformed/],
    ['PUT', 'namespaces/_/packages/b%20', {}, 400, /not valid/],
    ['POST', 'namespaces/_/packages/base', {}, 405, /not allowed/],
  ];
  for (const [method, path, body, status, error] of cases) {
    const response = await api(method, path, body);
    expect([method, path, response.status]).toEqual([method, path, status]);
    expect(response.body.error).toMatch(error);
    expect(typeof response.body.code).toBe('string');
  }
  expect(await dumpStore(env.clients)).toEqual(before);
});

test('a binding carries its target in the binding annotation, which clients cannot set or forge', async () => {
  const forged = { key: 'binding', value: { namespace: 'someone', name: 'else' } };
  const plain = await api('PUT', 'namespaces/_/packages/annotated', { annotations: [forged, { key: 'kept', value: 1 }] });
  expect(plain.body.annotations).toEqual([{ key: 'kept', value: 1 }]);
  const bound = await api('PUT', 'namespaces/_/packages/annotated-binding', { binding: { namespace: '_', name: 'annotated' }, annotations: [forged] });
  expect(bound.status).toBe(200);
  expect(bound.body.annotations).toEqual([{ key: 'binding', value: { namespace: 'guest', name: 'annotated' } }]);
  const updated = await api('PUT', 'namespaces/_/packages/annotated-binding?overwrite=true', { annotations: [forged, { key: 'note', value: 'x' }] });
  expect(updated.body.annotations).toEqual([{ key: 'note', value: 'x' }, { key: 'binding', value: { namespace: 'guest', name: 'annotated' } }]);
  const listed = (await api('GET', 'namespaces/_/packages')).body as Array<{ name: string; annotations: unknown[] }>;
  expect(listed.find((p) => p.name === 'annotated-binding')?.annotations).toContainEqual({ key: 'binding', value: { namespace: 'guest', name: 'annotated' } });
});
