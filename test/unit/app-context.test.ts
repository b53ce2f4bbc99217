import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { deploymentContext } from '../../infra/app-context';

// `cdk deploy -c key=value` settings: defaults, string values as the CLI passes them, and refusals.

const from = (values: Record<string, unknown>) => deploymentContext((key) => values[key]);

test('defaults: stack Skywhisk, ec2 invokers scaling 0..4 on arm64, tables retained', () => {
  expect(from({})).toEqual({ stackName: 'Skywhisk', target: 'aws', invokerMode: 'ec2', minInvokers: 0, maxInvokers: 4, architecture: 'arm64', removalPolicy: RemovalPolicy.RETAIN, directDispatch: false });
});

test('npm run deploy:local (-c target=localstack): fargate invokers unless told otherwise, and LocalStack’s edge for the API host', () => {
  expect(from({ target: 'localstack' })).toMatchObject({ target: 'localstack', invokerMode: 'fargate', localstackEdge: 'localhost.localstack.cloud:4566' });
  expect(from({ target: 'localstack', invokerMode: 'ec2', localstackEdge: 'localstack:4566' })).toMatchObject({ invokerMode: 'ec2', localstackEdge: 'localstack:4566' });
  // On AWS the edge setting means nothing and is not passed on.
  expect(from({ localstackEdge: 'localstack:4566' }).localstackEdge).toBeUndefined();
  expect(() => from({ target: 'localstack', localstackEdge: 'http://x/' })).toThrow(/-c localstackEdge: a host, or host:port/);
  expect(() => from({ target: 'moon' })).toThrow(/-c target/);
});

test('the controller’s reserved concurrency is unset unless asked for, and must be a whole number of at least 1', () => {
  expect(from({}).controllerConcurrency).toBeUndefined();
  expect(from({ controllerConcurrency: '200' }).controllerConcurrency).toBe(200);
  expect(() => from({ controllerConcurrency: '0' })).toThrow(/-c controllerConcurrency/);
  expect(() => from({ controllerConcurrency: 'lots' })).toThrow(/-c controllerConcurrency/);
});

test('action limits are passed on as given once they parse', () => {
  expect(from({ actionLimits: '{"memory":{"max":4096}}' }).actionLimits).toBe('{"memory":{"max":4096}}');
});

test('direct dispatch is asked for with -c directDispatch=true (a string) or true in cdk.json', () => {
  expect(from({ directDispatch: 'true' }).directDispatch).toBe(true);
  expect(from({ directDispatch: true }).directDispatch).toBe(true);
  expect(from({ directDispatch: 'false' }).directDispatch).toBe(false);
});

test('values given as strings on the command line are read as their types', () => {
  expect(from({ invokerMode: 'fargate', minInvokers: '1', maxInvokers: '10', removalPolicy: 'destroy', region: 'eu-west-1', instanceType: 'c7g.xlarge' })).toMatchObject({
    invokerMode: 'fargate',
    minInvokers: 1,
    maxInvokers: 10,
    removalPolicy: RemovalPolicy.DESTROY,
    region: 'eu-west-1',
    instanceType: 'c7g.xlarge',
  });
});

test.each([
  [{ invokerMode: 'lambda' }, /-c invokerMode: Invalid option/],
  [{ maxInvokers: '0' }, /-c maxInvokers/],
  [{ minInvokers: '-1' }, /-c minInvokers/],
  [{ minInvokers: '5', maxInvokers: '2' }, /minInvokers \(5\) is above maxInvokers \(2\)/],
  [{ stackName: '9lives' }, /-c stackName: a letter/],
  [{ region: 'Europe' }, /-c region: an AWS region/],
  [{ removalPolicy: 'snapshot' }, /-c removalPolicy/],
  [{ directDispatch: 'yes' }, /-c directDispatch/],
  [{ actionLimits: '{"memory":{"max":100000}}' }, /-c actionLimits: the value: memory\.max: 100000 is above the most Skywhisk allows/],
  [{ actionLimits: 'lots' }, /-c actionLimits: the value is not JSON/],
])('refuses %j', (values, message) => {
  expect(() => from(values)).toThrow(message);
});

describe('-c runtimes: a runtimes manifest in OpenWhisk format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'context-runtimes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  test('is read and checked before anything is built, and handed on as its text', () => {
    const text = JSON.stringify({ runtimes: { nodejs: [{ kind: 'nodejs:22', default: true, image: { prefix: 'skywhisk', name: 'action-nodejs-v22' } }] } });
    expect(from({ runtimes: file('good.json', text) }).runtimesManifest).toBe(text);
  });

  test.each([
    ['a file that is not there', () => join(dir, 'absent.json'), /-c runtimes: cannot read/],
    ['a file that is not JSON', () => file('bad.json', '{ runtimes'), /-c runtimes \(.*bad\.json\) is not JSON/],
    ['a manifest with two defaults', () => file('two.json', JSON.stringify({ runtimes: { go: [{ kind: 'go:1', default: true, image: { name: 'a' } }, { kind: 'go:2', default: true, image: { name: 'b' } }] } })), /runtimes\.go: more than one default kind/],
  ])('refuses %s, naming the setting', (_title, path, message) => {
    expect(() => from({ runtimes: path() })).toThrow(message);
  });
});
