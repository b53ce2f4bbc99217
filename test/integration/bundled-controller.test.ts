import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { Bus } from '../../infra/constructs/bus';
import { Controller } from '../../infra/constructs/controller';
import { Store } from '../../infra/constructs/store';
import { restProxyEvent } from '../helpers/apigateway';
import { BundledHandler, removeBundles, synthesizeBundles } from '../helpers/bundled-function';
import { basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';

// The controller as Lambda runs it: the esbuild bundle `cdk synth` makes (not the TS source), in
// plain Node, with the environment the template gives it, answering API Gateway REST proxy events
// against the embedded endpoint. Its answers are compared with the local gateway's answers to the
// same requests. ECS, the control plane the fleet waker calls, is a stand-in HTTP endpoint.

let env: TestPlatform;
let bundled: BundledHandler;
let ecs: Server;
const ecsCalls: Array<{ target: string; body: Record<string, unknown> }> = [];
let desiredCount = 0;
let auth: Record<string, string>;

/** ECS's JSON protocol, for DescribeServices and UpdateService only. */
function startEcsStandIn(): Promise<string> {
  ecs = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target']).split('.').pop()!;
      const body = JSON.parse(text) as Record<string, unknown>;
      ecsCalls.push({ target, body });
      if (target === 'UpdateService') desiredCount = body.desiredCount as number;
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(target === 'DescribeServices' ? { services: [{ serviceName: 'invoker', desiredCount }], failures: [] } : { service: { serviceName: 'invoker', desiredCount } }));
    });
  });
  return new Promise((resolve) => ecs.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(ecs.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  // GIVEN the controller bundled by synth, and the environment its template sets
  let template!: Template;
  const [bundleDir, ...others] = synthesizeBundles((stack) => {
    new Controller(stack, 'Controller', { store: new Store(stack, 'Store'), bus: new Bus(stack, 'Bus') });
    template = Template.fromStack(stack);
  });
  expect(others).toHaveLength(0);
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  const literal = Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).filter(([, value]) => typeof value === 'string')) as Record<string, string>;
  env = await startTestPlatform();
  auth = { Authorization: basicAuthHeader(env.platform.auth) };
  bundled = new BundledHandler(bundleDir, {
    PATH: process.env.PATH,
    ...literal,
    AWS_LAMBDA_FUNCTION_NAME: 'Controller',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: env.platform.endpointUrl,
    AWS_ENDPOINT_URL_ECS: await startEcsStandIn(),
    AWS_ACCESS_KEY_ID: env.platform.endpointCredentials!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: env.platform.endpointCredentials!.secretAccessKey,
    SKYWHISK_INVOKER_CLUSTER: 'invokers',
    SKYWHISK_INVOKER_SERVICE: 'invoker',
    SKYWHISK_LOG_LEVEL: 'warn',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}, 120_000);

afterAll(async () => {
  removeBundles();
  bundled?.stop();
  ecs?.close();
  await env?.stop();
});

interface Answer {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

async function throughBundle(method: string, path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const result = await bundled.invoke<APIGatewayProxyResult & { streamed?: boolean }>(restProxyEvent(method, path, { ...options, headers: auth }));
  // The handler Lambda runs is the streaming one (API Gateway's STREAM mode), answering in Lambda's stream format.
  expect(result.streamed).toBe(true);
  const contentType = result.headers?.['content-type'] ?? result.multiValueHeaders?.['content-type']?.[0];
  return { status: result.statusCode, contentType: contentType === undefined ? undefined : String(contentType), body: JSON.parse(result.body) };
}

async function throughGateway(method: string, path: string, options: { query?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
  const url = `${env.platform.apiHost}${path}?${new URLSearchParams(options.query ?? {}).toString()}`;
  const response = await fetch(url, {
    method,
    headers: { ...auth, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, body: await response.json() };
}

const VOLATILE = new Set(['activationId', 'start', 'end', 'duration', 'updated', 'code']);

/** Two answers are "the same" once ids, times and the action's name (one per path) are set aside. */
function normalized(value: unknown, name: string): unknown {
  if (typeof value === 'string') return value.replaceAll(name, '<name>');
  if (Array.isArray(value)) {
    const items = value.filter((item) => !(item && typeof item === 'object' && ['waitTime', 'initTime'].includes((item as { key?: string }).key ?? '')));
    return items.map((item) => normalized(item, name));
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, VOLATILE.has(key) ? '<volatile>' : normalized(inner, name)]));
  }
  return value;
}

async function expectSameAnswers(request: (name: string) => [string, string, { query?: Record<string, string>; body?: unknown }]): Promise<Answer> {
  const viaBundle = await throughBundle(...request('bundled-hello'));
  const viaGateway = await throughGateway(...request('gateway-hello'));
  expect(normalized(viaBundle, 'bundled-hello')).toEqual(normalized(viaGateway, 'gateway-hello'));
  return viaBundle;
}

test('create, blocking invoke, non-blocking invoke and list answer as the local gateway does', async () => {
  // WHEN the same requests go through the bundled handler and through the local gateway
  const exec = { kind: 'nodejs:default', code: 'function main(p) { return { hi: p.who }; }' };
  const created = await expectSameAnswers((name) => ['PUT', `/api/v1/namespaces/_/actions/${name}`, { body: { exec } }]);
  // THEN
  expect(created).toMatchObject({ status: 200, body: { name: 'bundled-hello', namespace: 'guest' } });

  const blocking = await expectSameAnswers((name) => ['POST', `/api/v1/namespaces/_/actions/${name}`, { query: { blocking: 'true' }, body: { who: 'aws' } }]);
  expect(blocking).toMatchObject({ status: 200, body: { response: { success: true, result: { hi: 'aws' } } } });

  const accepted = await expectSameAnswers((name) => ['POST', `/api/v1/namespaces/_/actions/${name}`, { body: { who: 'later' } }]);
  expect(accepted.status).toBe(202);
  const { activationId } = accepted.body as { activationId: string };
  // Every id handed out ends in a record.
  let record: Answer | undefined;
  for (let attempt = 0; attempt < 100 && record?.status !== 200; attempt++) {
    record = await throughBundle('GET', `/api/v1/namespaces/_/activations/${activationId}`);
    if (record.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(record).toMatchObject({ status: 200, body: { activationId, response: { result: { hi: 'later' } } } });

  const listedByBundle = await throughBundle('GET', '/api/v1/namespaces/_/actions', { query: { limit: '10' } });
  const listedByGateway = await throughGateway('GET', '/api/v1/namespaces/_/actions', { query: { limit: '10' } });
  expect(normalized(listedByBundle, '')).toEqual(normalized(listedByGateway, ''));
  expect((listedByBundle.body as Array<{ name: string }>).map((action) => action.name).sort()).toEqual(['bundled-hello', 'gateway-hello']);
}, 60_000);

test("a blocking invoke longer than API Gateway's buffered 29 s still answers with its record: the wait is OpenWhisk's 60 s", async () => {
  const exec = { kind: 'nodejs:default', code: 'function main() { return new Promise((done) => setTimeout(() => done({ waited: true }), 31000)); }' };
  expect((await throughBundle('PUT', '/api/v1/namespaces/_/actions/slow', { body: { exec, limits: { timeout: 45_000 } } })).status).toBe(200);
  const answer = await throughBundle('POST', '/api/v1/namespaces/_/actions/slow', { query: { blocking: 'true' } });
  expect(answer).toMatchObject({ status: 200, body: { response: { success: true, result: { waited: true } } } });
  expect((answer.body as { duration: number }).duration).toBeGreaterThanOrEqual(31_000);
}, 90_000);

test('a request the adapter cannot read still gets a whole streamed answer, status and headers first', async () => {
  // A header value Fetch's Headers refuses (a line break): the adapter cannot build the request.
  const event = restProxyEvent('GET', '/api/v1/namespaces/_/actions', { headers: { ...auth, 'x-odd': 'two\nlines' } });
  const result = await bundled.invoke<APIGatewayProxyResult & { streamed?: boolean; noMetadata?: boolean }>(event);
  expect(result.streamed).toBe(true);
  expect(result.noMetadata).toBeUndefined();
  expect(result.statusCode).toBeGreaterThanOrEqual(400);
  expect(result.statusCode).toBeLessThan(600);
});

test('errors come back in OpenWhisk shape, as from the local gateway', async () => {
  await expectSameAnswers(() => ['GET', '/api/v1/namespaces/_/actions/not-there', {}]);
  const unauthorized = await bundled.invoke<APIGatewayProxyResult>(restProxyEvent('GET', '/api/v1/namespaces/_/actions'));
  expect(unauthorized.statusCode).toBe(401);
  expect(JSON.parse(unauthorized.body)).toEqual({ error: 'The resource requires authentication, which was not supplied with the request', code: expect.any(String) });
});

test('enqueueing wakes an invoker service that scaled to zero, once', () => {
  // The first enqueue above found the service at zero and set it to one; later ones trusted it.
  expect(ecsCalls.filter((call) => call.target === 'UpdateService').map((call) => call.body)).toEqual([{ cluster: 'invokers', service: 'invoker', desiredCount: 1 }]);
  expect(ecsCalls[0]).toEqual({ target: 'DescribeServices', body: { cluster: 'invokers', services: ['invoker'] } });
});
