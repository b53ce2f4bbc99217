import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import openwhisk from 'openwhisk';
import { configFromEnv } from '../../lib/config';
import { basicAuthHeader, dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';

// A deployment raises OpenWhisk's action limits with SKYWHISK_ACTION_LIMITS; an operator narrows
// one namespace's with `skywhisk admin limits set`, as with wskadmin: its action ranges inside the
// system's and the kinds it may use. Both are enforced when actions are created and updated, with
// OpenWhisk's status codes and words, and a refused request stores nothing.

type ClientError = { statusCode: number; error: { error: string; code: string } };
const refusal = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a refusal'); }, (error: ClientError) => error);

const SYSTEM = { memory: { max: 4096, default: 512 }, timeout: { max: 3_600_000 } };

describe('action limits', () => {
  let env: TestPlatform;
  let team: ReturnType<typeof openwhisk>;
  let teamAuth: string;

  const adminCli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [resolve(__dirname, '../../bin/skywhisk.js'), 'admin', ...args, '--table', configFromEnv({}).tables.subjects], {
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL: env.platform.endpointUrl,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: env.platform.endpointCredentials!.accessKeyId,
        AWS_SECRET_ACCESS_KEY: env.platform.endpointCredentials!.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_ACTION_LIMITS: JSON.stringify(SYSTEM) });
    // A namespace whose limits are set before its key is first used (the controller caches identities for 10 s).
    teamAuth = (await adminCli('user', 'create', 'team')).stdout.trim();
    await adminCli('limits', 'set', 'team', '--maxActionMemory', '1024', '--minActionTimeout', '1000', '--allowedKinds', 'nodejs:22', 'sequence');
    team = openwhisk({ apihost: env.platform.apiHost, api_key: teamAuth });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('GET / gives the deployment\'s ranges, and actions get its default', async () => {
    const info = (await (await fetch(`${env.platform.apiHost}/`)).json()) as { limits: Record<string, number> };
    expect(info.limits).toMatchObject({ max_action_memory: 4096 * 1024 * 1024, min_action_memory: 128 * 1024 * 1024, max_action_duration: 3_600_000 });
    const created = await env.wsk().actions.create({ name: 'defaults', action: 'function main() { return {}; }' });
    expect(created.limits).toMatchObject({ memory: 512, timeout: 60_000 });
  });

  test('an action may go above OpenWhisk\'s 512 MB up to the deployment\'s maximum, and not beyond', async () => {
    const wsk = env.wsk();
    const big = await wsk.actions.create({ name: 'big', action: 'function main() { return {}; }', limits: { memory: 2048, timeout: 1_800_000 } } as never);
    expect(big.limits).toMatchObject({ memory: 2048, timeout: 1_800_000 });
    const before = await dumpStore(env.clients);
    const tooBig = await refusal(wsk.actions.create({ name: 'too-big', action: 'function main() { return {}; }', limits: { memory: 8192 } } as never));
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.error.error).toBe('memory size 8192 MB exceeds allowed threshold of 4096 MB');
    expect(await dumpStore(env.clients)).toEqual(before);
  });

  test("the namespace's limits document shows what the operator set, kept inside the system's ranges", async () => {
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/limits`, { headers: { authorization: basicAuthHeader(teamAuth) } });
    expect(await response.json()).toMatchObject({ maxActionMemory: 1024, minActionMemory: 128, minActionTimeout: 1000, maxActionTimeout: 3_600_000, allowedKinds: ['nodejs:22', 'sequence'] });
  });

  test.each([
    ['memory above the namespace maximum', { memory: 2048 }, 'memory size 2048 MB exceeds allowed threshold of 1024 MB'],
    ['a timeout below the namespace minimum', { timeout: 500 }, 'duration 500 milliseconds below allowed threshold of 1000 milliseconds'],
  ])('%s is a 400 in OpenWhisk\'s words, and stores nothing', async (_title, limits, message) => {
    const before = await dumpStore(env.clients);
    const refused = await refusal(team.actions.create({ name: 'limited', action: 'function main() { return {}; }', limits } as never));
    expect(refused.statusCode).toBe(400);
    expect(refused.error.error).toBe(message);
    expect(await dumpStore(env.clients)).toEqual(before);
  });

  test('within its limits and kinds the namespace creates, runs and updates actions', async () => {
    await team.actions.create({ name: 'ok', kind: 'nodejs:default', action: 'function main() { return { ok: true }; }', limits: { memory: 1024, timeout: 2000 } } as never);
    expect(await team.actions.invoke({ name: 'ok', blocking: true, result: true })).toEqual({ ok: true });
    // An update that names no exec is not a kind check.
    await team.actions.update({ name: 'ok', params: { a: 1 } } as never);
    await team.actions.create({ name: 'seq', action: { exec: { kind: 'sequence', components: ['/team/ok'] } } } as never);
  });

  test.each([
    ['python:3.11', { kind: 'python:3.11', code: 'def main(a):\n    return a\n' }],
    ['blackbox', { kind: 'blackbox', image: 'example/runner:1' }],
    ['nodejs:20', { kind: 'nodejs:20', code: 'function main() { return {}; }' }],
  ])('a kind outside allowedKinds (%s) is a 403 in OpenWhisk\'s words, and stores nothing', async (kind, exec) => {
    const before = await dumpStore(env.clients);
    const refused = await refusal(team.actions.create({ name: 'other-kind', action: { exec } } as never));
    expect(refused.statusCode).toBe(403);
    expect(refused.error.error).toBe(`The supplied authentication is not authorized to access actions of kind '${kind}'.`);
    expect(await dumpStore(env.clients)).toEqual(before);
    // The update of an existing action into that kind is refused too.
    const update = await refusal(team.actions.update({ name: 'ok', action: { exec } } as never));
    expect(update.statusCode).toBe(403);
  });

  test('other namespaces keep every kind', async () => {
    await env.wsk().actions.create({ name: 'snake', kind: 'python:3.11', action: 'def main(a):\n    return {"ok": True}\n' } as never);
  });

  test('bad limits given to the admin CLI are refused with their flag named, and change nothing', async () => {
    const cliError = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected the CLI to fail'); }, (error: { stderr: string }) => error.stderr);
    expect(await cliError(adminCli('limits', 'set', 'team', '--allowedKinds', 'not a kind'))).toMatch(/--allowedKinds: a kind such as nodejs:22/);
    expect(await cliError(adminCli('limits', 'set', 'team', '--minActionMemory', '2048', '--maxActionMemory', '1024'))).toMatch(/--minActionMemory: minActionMemory 2048 is above maxActionMemory 1024/);
    expect(await cliError(adminCli('limits', 'set', 'team', '--maxActionTimeout', 'long'))).toMatch(/whole numbers.*--maxActionTimeout was 'long'/);
    const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/limits`, { headers: { authorization: basicAuthHeader(teamAuth) } });
    expect(await response.json()).toMatchObject({ maxActionMemory: 1024, allowedKinds: ['nodejs:22', 'sequence'] });
  });
});
