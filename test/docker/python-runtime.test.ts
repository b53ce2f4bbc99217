import { dockerTestsEnabled } from '../helpers/docker';
import { clientForNewNamespace, startTestPlatform, type TestPlatform } from '../helpers/platform';

// What a migrating user's python actions find on the Docker factory: the libraries OpenWhisk's
// python image preinstalls (core/requirements_common.txt), `requests` first.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;

type Record_ = { response: { result: Record<string, unknown>; success: boolean } };

/** Import name of each library OpenWhisk preinstalls. */
const PREINSTALLED = ['bs4', 'dateutil', 'httplib2', 'kafka', 'lxml', 'netifaces', 'requests', 'scrapy', 'simplejson', 'twisted', 'virtualenv'];

const IMPORTS_ALL = `
import importlib
def main(args):
    return {name: importlib.import_module(name).__name__ for name in ${JSON.stringify(PREINSTALLED)}}
`;

// With the key it was given, an action lists its own namespace's actions through the REST API.
const LISTS_WITH_REQUESTS = `
import os, requests
def main(args):
    key = os.environ['__OW_API_KEY'].split(':')
    url = os.environ['__OW_API_HOST'] + '/api/v1/namespaces/_/actions'
    answer = requests.get(url, auth=(key[0], key[1]), timeout=10)
    return {'status': answer.status_code, 'names': sorted(a['name'] for a in answer.json())}
`;

describeDocker('the python runtime on Docker', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_STEM_CELLS: '' });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('a python:3.11 action can import every library OpenWhisk preinstalls', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'py-libraries', action: { exec: { kind: 'python:3.11', code: IMPORTS_ALL } } } as never);
    const record = (await wsk.actions.invoke({ name: 'py-libraries', blocking: true })) as Record_;
    expect(record.response.result).toEqual(Object.fromEntries(PREINSTALLED.map((name) => [name, name])));
  }, 120_000);

  test('with requests and the key it was given, an action lists its own namespace’s actions', async () => {
    const tenant = await clientForNewNamespace(env, `py-lister-${process.pid}`);
    await tenant.wsk.actions.create({ name: 'py-lister', action: { exec: { kind: 'python:default', code: LISTS_WITH_REQUESTS } }, annotations: { 'provide-api-key': true } } as never);
    const record = (await tenant.wsk.actions.invoke({ name: 'py-lister', blocking: true })) as Record_;
    expect(record.response.result).toEqual({ status: 200, names: ['py-lister'] });
  }, 120_000);
});
