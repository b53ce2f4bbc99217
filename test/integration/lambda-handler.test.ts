import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { restProxyEvent } from '../helpers/apigateway';

// functions/controller/handler.ts is the controller as a Lambda behind API Gateway's REST proxy
// integration. Here it answers real event shapes against the embedded endpoint, while the
// platform's invoker process runs the activations it enqueues.

type Handler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;

let env: TestPlatform;
let handler: Handler;
let auth: Record<string, string>;
const context = { awsRequestId: 'lambda-req', functionName: 'controller' } as Context;

beforeAll(async () => {
  env = await startTestPlatform();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: env.platform.endpointUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: env.platform.endpointCredentials!.accessKeyId,
    AWS_SECRET_ACCESS_KEY: env.platform.endpointCredentials!.secretAccessKey,
    SKYWHISK_MAX_BLOCKING_WAIT_MS: '25000',
  });
  // Loaded only now: the handler builds its clients from the environment when its module loads.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = (require('../../functions/controller/handler') as { bufferedHandler: Handler }).bufferedHandler;
  auth = { Authorization: basicAuthHeader(env.platform.auth) };
});

afterAll(async () => {
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'SKYWHISK_MAX_BLOCKING_WAIT_MS']) delete process.env[key];
  await env?.stop();
});

/** A response header, from `headers` or `multiValueHeaders` (hono answers v1 events with the latter). */
function header(result: APIGatewayProxyResult, name: string): unknown {
  return result.headers?.[name] ?? result.multiValueHeaders?.[name]?.[0];
}

function json(result: APIGatewayProxyResult): unknown {
  return JSON.parse(result.body);
}

test('GET / answers without auth with the platform description', async () => {
  const result = await handler(restProxyEvent('GET', '/'), context);
  expect(result.statusCode).toBe(200);
  expect(json(result)).toMatchObject({ description: 'OpenWhisk', api_paths: ['/api/v1'], runtimes: { nodejs: [{ kind: 'nodejs:22' }, { kind: 'nodejs:20' }] } });
});

test('create, blocking invoke, non-blocking invoke and list through proxy events', async () => {
  const created = await handler(
    restProxyEvent('PUT', '/api/v1/namespaces/_/actions/lambda-hello', {
      query: { overwrite: 'true' },
      headers: auth,
      body: { exec: { kind: 'nodejs:default', code: 'function main(p) { return { hi: p.who }; }' } },
    }),
    context,
  );
  expect(created.statusCode).toBe(200);
  expect(json(created)).toMatchObject({ name: 'lambda-hello', namespace: 'guest', version: '0.0.1' });

  const blocking = await handler(
    restProxyEvent('POST', '/api/v1/namespaces/_/actions/lambda-hello', { query: { blocking: 'true' }, headers: auth, body: { who: 'lambda' } }),
    context,
  );
  expect(blocking.statusCode).toBe(200);
  const record = json(blocking) as { activationId: string; response: { result: unknown } };
  expect(record.response.result).toEqual({ hi: 'lambda' });
  expect(header(blocking, 'x-openwhisk-activation-id')).toBe(record.activationId);

  const resultOnly = await handler(
    restProxyEvent('POST', '/api/v1/namespaces/guest/actions/lambda-hello', { query: { blocking: 'true', result: 'true' }, headers: auth, body: { who: 'r' } }),
    context,
  );
  expect(json(resultOnly)).toEqual({ hi: 'r' });

  const accepted = await handler(restProxyEvent('POST', '/api/v1/namespaces/_/actions/lambda-hello', { headers: auth, body: { who: 'async' } }), context);
  expect(accepted.statusCode).toBe(202);
  expect(json(accepted)).toEqual({ activationId: expect.stringMatching(/^[0-9a-f]{32}$/) });

  const listed = await handler(restProxyEvent('GET', '/api/v1/namespaces/_/actions', { query: { limit: '5' }, headers: auth }), context);
  expect(listed.statusCode).toBe(200);
  expect((json(listed) as Array<{ name: string }>).map((a) => a.name)).toContain('lambda-hello');
});

test('errors come back in OpenWhisk shape through the handler', async () => {
  const unauthorized = await handler(restProxyEvent('GET', '/api/v1/namespaces/_/actions'), context);
  expect(unauthorized.statusCode).toBe(401);
  expect(json(unauthorized)).toEqual({ error: expect.any(String), code: expect.any(String) });

  const missing = await handler(restProxyEvent('GET', '/api/v1/namespaces/_/actions/not-there', { headers: auth }), context);
  expect(missing.statusCode).toBe(404);
  expect(json(missing)).toMatchObject({ error: 'The requested resource does not exist.' });
});
