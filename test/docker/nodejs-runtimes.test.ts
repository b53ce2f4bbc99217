import { dockerTestsEnabled } from '../helpers/docker';
import { clientForNewNamespace, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { zipBase64 } from '../helpers/zip';

// What a migrating user's nodejs actions find on the Docker factory: the Node major their kind
// names (nodejs:22 the default, nodejs:20 still there), and the libraries OpenWhisk's nodejs image
// preinstalls, `openwhisk` first, requirable from plain and zipped actions alike.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;

type Record_ = { response: { result: Record<string, unknown>; success: boolean }; annotations: Array<{ key: string; value: unknown }> };

/** OpenWhisk's nodejs runtime list (core/nodejsActionBase/package.json), with the major OpenWhisk ships. */
const PREINSTALLED: Array<[string, string]> = [
  ['openwhisk', '3'],
  ['express', '4'],
  ['body-parser', '1'],
  ['redis', '2'],
  ['serialize-error', '3'],
  ['uuid', '3'],
];

const LISTS_ITS_OWN_ACTIONS = `
const openwhisk = require('openwhisk');
async function main(params) {
  const ow = openwhisk();
  const mine = (await ow.actions.list()).map((a) => a.name).sort();
  let other;
  try {
    await ow.actions.list({ namespace: params.other });
    other = 'listed';
  } catch (error) {
    other = error.statusCode;
  }
  return { mine, other };
}`;

describeDocker('nodejs runtimes on Docker', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_STEM_CELLS: '' });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test.each([
    ['nodejs:default', 'nodejs:22', 'v22.'],
    ['nodejs:22', 'nodejs:22', 'v22.'],
    ['nodejs:20', 'nodejs:20', 'v20.'],
  ])('an action of kind %s is stored as %s and runs on Node %s', async (kind, stored, version) => {
    const wsk = env.wsk();
    const name = `version-${kind.replace(':', '-')}`;
    await wsk.actions.create({ name, action: { exec: { kind, code: 'function main() { return { version: process.version }; }' } } } as never);
    const action = (await wsk.actions.get({ name })) as { exec: { kind: string } };
    expect(action.exec.kind).toBe(stored);
    const record = (await wsk.actions.invoke({ name, blocking: true })) as Record_;
    expect(String(record.response.result.version)).toMatch(new RegExp(`^${version.replace('.', '\\.')}`));
    expect(record.annotations).toContainEqual({ key: 'kind', value: stored });
  }, 120_000);

  test.each(['nodejs:22', 'nodejs:20'])('a %s action can require every library OpenWhisk preinstalls', async (kind) => {
    const wsk = env.wsk();
    const name = `libraries-${kind.replace(':', '-')}`;
    // Each loads, at the major OpenWhisk ships (a lockfile drifting to another major would change its API).
    const code = `function main() { return Object.fromEntries(${JSON.stringify(PREINSTALLED.map(([lib]) => lib))}.map((lib) => [lib, typeof require(lib) !== 'undefined' && require(lib + '/package.json').version.split('.')[0]])); }`;
    await wsk.actions.create({ name, action: { exec: { kind, code } } } as never);
    const record = (await wsk.actions.invoke({ name, blocking: true })) as Record_;
    expect(record.response.result).toEqual(Object.fromEntries(PREINSTALLED));
  }, 120_000);

  test('a zipped action, run from its own directory, finds the preinstalled libraries too', async () => {
    const wsk = env.wsk();
    const code = await zipBase64({
      'package.json': JSON.stringify({ main: 'index.js' }),
      'index.js': "exports.main = () => ({ id: require('uuid').v4().length, client: typeof require('openwhisk') });",
    });
    await wsk.actions.create({ name: 'zipped-libraries', action: { exec: { kind: 'nodejs:22', code, binary: true } } } as never);
    const record = (await wsk.actions.invoke({ name: 'zipped-libraries', blocking: true })) as Record_;
    expect(record.response.result).toEqual({ id: 36, client: 'function' });
  }, 120_000);

  test("with the key it was given, an action's openwhisk client lists its own namespace's actions, and no other tenant's", async () => {
    const tenant = await clientForNewNamespace(env, `lister-${process.pid}`);
    const other = await clientForNewNamespace(env, `other-${process.pid}`);
    await other.wsk.actions.create({ name: 'secret-of-other', action: 'function main() { return {}; }' });
    await tenant.wsk.actions.create({ name: 'lister', action: LISTS_ITS_OWN_ACTIONS, annotations: { 'provide-api-key': true } } as never);
    await tenant.wsk.actions.create({ name: 'neighbour', action: 'function main() { return {}; }' });
    const record = (await tenant.wsk.actions.invoke({ name: 'lister', blocking: true, params: { other: `other-${process.pid}` } })) as Record_;
    expect(record.response.result).toEqual({ mine: ['lister', 'neighbour'], other: 403 });
  }, 120_000);

  test('an action not given a key has none to call the API with', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'keyless', action: LISTS_ITS_OWN_ACTIONS });
    const record = (await wsk.actions.invoke({ name: 'keyless', blocking: true, params: { other: 'guest' } }).catch((error: { error: Record_ }) => error.error)) as Record_;
    expect(record.response.success).toBe(false);
    expect(JSON.stringify(record.response.result)).toMatch(/api_key/i);
  }, 120_000);
});
