import { basicAuthHeader, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// Bad input at the boundary: each request gets the right 4xx in OpenWhisk's error shape and the
// store and queues are exactly as before (no entity, no message, no record).

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform();
  await env.wsk().actions.create({ name: 'existing', action: 'function main(p) { return p; }' });
  await env.wsk().actions.invoke({ name: 'existing', blocking: true });
  await env.wsk().triggers.create({ name: 'ticks' });
});

afterAll(async () => {
  await env?.stop();
});

interface BadRequest {
  title: string;
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Omit auth, or send this Authorization header instead of the guest's. */
  auth?: string | null;
  status: number;
  error?: RegExp;
}

const ACTION = '/api/v1/namespaces/_/actions';
const validExec = { kind: 'nodejs:default', code: 'function main() { return {}; }' };
const put = (path: string, body: unknown): Pick<BadRequest, 'method' | 'path' | 'body'> => ({
  method: 'PUT',
  path,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

const cases: BadRequest[] = [
  { title: 'malformed JSON body', ...put(`${ACTION}/a1`, '{"exec": '), status: 400, error: /malformed/ },
  { title: 'a JSON array instead of an object', ...put(`${ACTION}/a1`, '[]'), status: 400 },
  { title: 'exec.kind of the wrong type', ...put(`${ACTION}/a1`, { exec: { kind: 7, code: 'x' } }), status: 400 },
  { title: 'limits.timeout of the wrong type', ...put(`${ACTION}/a1`, { exec: validExec, limits: { timeout: 'long' } }), status: 400 },
  { title: 'parameters not an array', ...put(`${ACTION}/a1`, { exec: validExec, parameters: { a: 1 } }), status: 400 },
  { title: 'publish not a boolean', ...put(`${ACTION}/a1`, { exec: validExec, publish: 'yes' }), status: 400 },
  { title: 'an invalid version', ...put(`${ACTION}/a1`, { exec: validExec, version: '1.x' }), status: 400 },
  { title: 'an unknown exec kind', ...put(`${ACTION}/a1`, { exec: { kind: 'cobol:85', code: 'x' } }), status: 400, error: /^The request content was malformed:\nThe specified runtime 'cobol:85' is not supported by this platform\. Valid values are: 'nodejs:22', 'nodejs:20', .*'sequence', 'blackbox'\.$/ },
  { title: 'no exec on create', ...put(`${ACTION}/a1`, {}), status: 400, error: /exec undefined/ },
  { title: 'no code', ...put(`${ACTION}/a1`, { exec: { kind: 'nodejs:20' } }), status: 400 },
  { title: 'timeout below the minimum', ...put(`${ACTION}/a1`, { exec: validExec, limits: { timeout: 50 } }), status: 400, error: /^duration 50 milliseconds below allowed threshold of 100 milliseconds$/ },
  { title: 'timeout above the maximum', ...put(`${ACTION}/a1`, { exec: validExec, limits: { timeout: 999_999_999 } }), status: 400, error: /^duration 999999999 milliseconds exceeds allowed threshold of 300000 milliseconds$/ },
  { title: 'memory above the maximum', ...put(`${ACTION}/a1`, { exec: validExec, limits: { memory: 4096 } }), status: 400, error: /^memory size 4096 MB exceeds allowed threshold of 512 MB$/ },
  { title: 'memory below the minimum', ...put(`${ACTION}/a1`, { exec: validExec, limits: { memory: 1 } }), status: 400, error: /^memory size 1 MB below allowed threshold of 128 MB$/ },
  { title: 'logs above the maximum', ...put(`${ACTION}/a1`, { exec: validExec, limits: { logs: 20 } }), status: 400, error: /^log size 20 MB exceeds allowed threshold of 10 MB$/ },
  { title: 'concurrency of 0', ...put(`${ACTION}/a1`, { exec: validExec, limits: { concurrency: 0 } }), status: 400, error: /^concurrency 0 below allowed threshold of 1$/ },
  { title: 'instances below 0', ...put(`${ACTION}/a1`, { exec: validExec, limits: { instances: -1 } }), status: 400, error: /^The request content was malformed:\nrequirement failed: Action container concurrency must be greater than or equal to 0\.$/ },
  { title: "instances above the namespace's concurrency", ...put(`${ACTION}/a1`, { exec: validExec, limits: { instances: 1_000_001 } }), status: 400, error: /^Max action instance concurrency must not exceed your namespace concurrency of 1000000\.$/ },
  { title: 'concurrency above 1 for a kind that cannot share a container', ...put(`${ACTION}/a1`, { exec: { kind: 'python:3.11', code: 'def main(a): return a' }, limits: { concurrency: 2 } }), status: 400 },
  { title: 'a blackbox action without an image', ...put(`${ACTION}/a1`, { exec: { kind: 'blackbox' } }), status: 400 },
  { title: 'a blackbox image name with shell characters', ...put(`${ACTION}/a1`, { exec: { kind: 'blackbox', image: 'img; rm -rf /' } }), status: 400 },
  { title: 'a name starting with a dash', ...put(`${ACTION}/-bad`, { exec: validExec }), status: 400 },
  { title: 'a name with three parts', ...put(`${ACTION}/a/b/c`, { exec: validExec }), status: 400 },
  { title: 'a name of 300 characters', ...put(`${ACTION}/${'n'.repeat(300)}`, { exec: validExec }), status: 400 },
  { title: 'a name ending in a space', ...put(`${ACTION}/abc%20`, { exec: validExec }), status: 400 },
  { title: 'a name with a non-ASCII letter', ...put(`${ACTION}/h%C3%A9llo`, { exec: validExec }), status: 400 },
  { title: 'a name with a NUL byte', ...put(`${ACTION}/a%00b`, { exec: validExec }), status: 400 },
  {
    title: 'action annotations over 1 MB',
    ...put(`${ACTION}/big`, { exec: validExec, annotations: [{ key: 'a', value: 'x'.repeat(1_100_000) }] }),
    status: 413,
    error: /^annotations larger than allowed: \d+ > 1048576 bytes\.$/,
  },
  // Refused before any component is read: none of these exists, and the answer is still about the length.
  {
    title: 'a sequence of more components than a sequence may have',
    ...put(`${ACTION}/long`, { exec: { kind: 'sequence', components: Array.from({ length: 51 }, (_, i) => `/guest/missing-${i}`) } }),
    status: 400,
    error: /^Too many actions in the sequence\.$/,
  },
  { title: 'action parameters over 1 MB (code may be 48 MB, parameters 1 MB)', ...put(`${ACTION}/big`, { exec: validExec, parameters: [{ key: 'p', value: 'x'.repeat(1_100_000) }] }), status: 413 },
  {
    title: 'an invoke payload over 1 MB',
    method: 'POST',
    path: `${ACTION}/existing?blocking=true`,
    body: JSON.stringify({ blob: 'x'.repeat(1_100_000) }),
    status: 413,
  },
  { title: 'an invoke payload that is a JSON array', method: 'POST', path: `${ACTION}/existing`, body: '[1,2]', status: 400 },
  { title: 'an invoke payload that is not JSON', method: 'POST', path: `${ACTION}/existing`, body: 'name=x', status: 400 },
  { title: 'a non-numeric blocking timeout', method: 'POST', path: `${ACTION}/existing?blocking=true&timeout=soon`, status: 400, error: /Timeout must be/ },
  { title: 'a blocking timeout over 60000 ms', method: 'POST', path: `${ACTION}/existing?blocking=true&timeout=70000`, status: 400 },
  { title: 'a zero blocking timeout', method: 'POST', path: `${ACTION}/existing?blocking=true&timeout=0`, status: 400 },
  { title: 'blocking that is not a boolean', method: 'POST', path: `${ACTION}/existing?blocking=maybe`, status: 400 },
  { title: 'invoking an action that does not exist', method: 'POST', path: `${ACTION}/ghost?blocking=true`, status: 404 },
  { title: "listing a package's actions, a package name of 2000 characters", method: 'GET', path: `${ACTION}/${'p'.repeat(2000)}/`, status: 400, error: /The name 'p+' of the package is not valid/ },
  { title: "listing a package's actions, a package name starting with a dash", method: 'GET', path: `${ACTION}/-pkg/`, status: 400, error: /of the package is not valid/ },
  { title: 'a list limit over 200', method: 'GET', path: `${ACTION}?limit=201`, status: 400, error: /not in the range of 0 to 200/ },
  { title: 'a negative skip', method: 'GET', path: `${ACTION}?skip=-1`, status: 400, error: /^The value '-1' is not greater than or equal to 0 for actions\.$/ },
  { title: 'a limit that is not a number', method: 'GET', path: `${ACTION}?limit=ten`, status: 400, error: /^The value 'ten' is not an integer for actions\.$/ },
  { title: 'a skip too large to be an integer', method: 'GET', path: `${ACTION}?skip=99999999999999999999`, status: 400, error: /^The value '99999999999999999999' is not an integer for actions\.$/ },
  { title: 'a limit beyond 32 bits, as Java reads it', method: 'GET', path: `${ACTION}?limit=3000000000`, status: 400, error: /^The value '3000000000' is not an integer for actions\.$/ },
  { title: 'a non-numeric activation since', method: 'GET', path: '/api/v1/namespaces/_/activations?since=yesterday', status: 400 },
  { title: 'an activation since beyond 2^53', method: 'GET', path: `/api/v1/namespaces/_/activations?since=${'9'.repeat(30)}`, status: 400, error: /'since' parameter is out of range/ },
  { title: 'an activation upto beyond 2^53 when counting', method: 'GET', path: `/api/v1/namespaces/_/activations?count=true&upto=${'9'.repeat(400)}`, status: 400, error: /'upto' parameter is out of range/ },
  { title: 'count and docs together', method: 'GET', path: '/api/v1/namespaces/_/activations?count=true&docs=true', status: 400, error: /^The parameter 'docs' is not permitted with 'count'\.$/ },
  { title: 'a DELETE of an activation, which is only read', method: 'DELETE', path: `/api/v1/namespaces/_/activations/${'a'.repeat(32)}`, status: 405, error: /^HTTP method not allowed, supported methods: GET$/ },
  { title: 'a PUT on the activations collection', ...put('/api/v1/namespaces/_/activations', {}), status: 405 },
  { title: 'an activation id of the wrong length', method: 'GET', path: '/api/v1/namespaces/_/activations/zzz', status: 400, error: /^Activation id length is 3 but must be 32\.$/ },
  { title: 'an activation id that is not hexadecimal', method: 'GET', path: `/api/v1/namespaces/_/activations/${'z'.repeat(32)}`, status: 400, error: /^The activation id is not valid\.$/ },
  { title: 'a sequence without components', ...put(`${ACTION}/s1`, { exec: { kind: 'sequence', components: [] } }), status: 400, error: /^No component specified for the sequence\.$/ },
  { title: 'no credentials', ...put(`${ACTION}/a1`, { exec: validExec }), auth: null, status: 401 },
  { title: 'a wrong key', ...put(`${ACTION}/a1`, { exec: validExec }), auth: basicAuthHeader('23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong'), status: 401 },
  { title: 'an unknown subject', method: 'POST', path: `${ACTION}/existing`, auth: basicAuthHeader('nobody:nothing'), status: 401 },
  { title: 'a malformed Authorization header', method: 'GET', path: ACTION, auth: 'Basic !!!not-base64', status: 401 },
  { title: 'a bearer token instead of basic auth', method: 'GET', path: ACTION, auth: 'Bearer abc', status: 401 },
  { title: 'another namespace: create', ...put('/api/v1/namespaces/someone-else/actions/a1', { exec: validExec }), status: 403 },
  { title: 'another namespace: list', method: 'GET', path: '/api/v1/namespaces/someone-else/actions', status: 403 },
  { title: 'another namespace: invoke', method: 'POST', path: '/api/v1/namespaces/someone-else/actions/existing', status: 403 },
  { title: 'another namespace: activations', method: 'GET', path: '/api/v1/namespaces/someone-else/activations', status: 403 },
  { title: 'an unknown route', method: 'GET', path: '/api/v1/namespaces/_/nothing-here', status: 404 },
  { title: 'a method an action does not take', method: 'PATCH', path: `${ACTION}/existing`, status: 405 },
  { title: 'a namespace name that breaks the rules', method: 'GET', path: '/api/v1/namespaces/bad%20ns%20/actions', status: 400 },
  // One name space per namespace for actions, triggers, rules and packages, as OpenWhisk's ids.
  ...(
    [
      ['a package named like an action', put('/api/v1/namespaces/_/packages/existing', {})],
      ['a trigger named like an action', put('/api/v1/namespaces/_/triggers/existing', {})],
      ['a rule named like an action', put('/api/v1/namespaces/_/rules/existing', { trigger: '/_/ticks', action: '/_/existing' })],
      ['an action named like a trigger, even with overwrite', put(`${ACTION}/ticks?overwrite=true`, { exec: validExec })],
      ['reading a trigger by an action’s name', { method: 'GET', path: '/api/v1/namespaces/_/triggers/existing' }],
      ['firing a trigger by an action’s name', { method: 'POST', path: '/api/v1/namespaces/_/triggers/existing', body: '{}' }],
      ['deleting a package by an action’s name', { method: 'DELETE', path: '/api/v1/namespaces/_/packages/existing' }],
      ['reading an action by a trigger’s name', { method: 'GET', path: `${ACTION}/ticks` }],
      ['invoking an action by a trigger’s name', { method: 'POST', path: `${ACTION}/ticks?blocking=true`, body: '{}' }],
      // The name is checked first, as OpenWhisk reads the document id before the body's references.
      ['a rule named like an action, whose trigger is missing too', put('/api/v1/namespaces/_/rules/existing', { trigger: '/_/nothing', action: '/_/existing' })],
      ['reading a package by an action’s name', { method: 'GET', path: '/api/v1/namespaces/_/packages/existing' }],
      ['listing the actions of a package by an action’s name', { method: 'GET', path: `${ACTION}/existing/` }],
      ['creating an action in a package by an action’s name', put(`${ACTION}/existing/inner`, { exec: validExec })],
      ['invoking an action in a package by an action’s name', { method: 'POST', path: `${ACTION}/existing/inner`, body: '{}' }],
    ] as const
  ).map(([title, request]) => ({ title, ...request, status: 409, error: /^Resource by this name exists but is not in this collection\.$/ })),
  {
    title: 'an invoke payload just under 1 MiB, too big with its envelope',
    method: 'POST',
    path: `${ACTION}/existing`,
    body: JSON.stringify({ blob: 'x'.repeat(1_048_560) }),
    status: 413,
  },
];

test.each(cases)('$title → $status, nothing written', async ({ method, path, body, auth, status, error, headers }) => {
  const before = await dumpStore(env.clients);
  const authorization = auth === undefined ? basicAuthHeader(env.platform.auth) : auth;
  const response = await fetch(`${env.platform.apiHost}${path}`, {
    method,
    body,
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}), ...headers },
  });
  const payload = (await response.json()) as { error: unknown; code: unknown };
  expect(response.status).toBe(status);
  expect(payload).toEqual({ error: expect.any(String), code: expect.any(String) });
  if (error) expect(payload.error).toMatch(error);
  expect(await dumpStore(env.clients)).toEqual(before);
});
