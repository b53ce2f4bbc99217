import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { basicAuthHeader, heldSlots, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// Invokers register and heartbeat. One that stops heartbeating (frozen with SIGSTOP, holding a
// claim) is shown offline after the window, and another invoker ends its claimed activation in a
// whisk internal error record instead of running it again, a record the frozen one cannot
// overwrite when it wakes up.

const OFFLINE_MS = 3000;
let env: TestPlatform;
let second: ManagedProcess | undefined;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  env = await startTestPlatform({
    SKYWHISK_QUEUE_VISIBILITY_S: '2',
    SKYWHISK_INVOKER_HEARTBEAT_MS: '300',
    SKYWHISK_INVOKER_OFFLINE_MS: String(OFFLINE_MS),
    // Its claims are taken over as soon as it is offline (the default lease is a minute).
    SKYWHISK_INVOKER_LEASE_MS: String(OFFLINE_MS),
    // A duplicate seen while A still looked alive is looked at again soon.
    SKYWHISK_DUPLICATE_RECHECK_S: '1',
    SKYWHISK_INVOKER_ID: 'invoker-a',
  });
}, 120_000);

afterAll(async () => {
  if (env) env.platform.processes.invoker.child.kill('SIGCONT');
  if (second) await stopProcess(second, 30_000);
  await env?.stop();
  await channel.stop();
});

async function invokers(auth: string, path = '/invokers'): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${env.platform.apiHost}${path}`, { headers: auth ? { authorization: basicAuthHeader(auth) } : {} });
  return { status: response.status, body: await response.json() };
}

async function until<T>(probe: () => Promise<T | undefined>, tries = 200): Promise<T | undefined> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

test('GET /invokers is for operators: the admin key sees every invoker up; the guest gets 403, no key 401', async () => {
  const { status, body } = await invokers(env.platform.adminAuth);
  expect(status).toBe(200);
  const entries = Object.entries(body as Record<string, string>);
  expect(entries).toEqual([[expect.stringMatching(/^invoker-a\//), 'up']]);
  const details = (await invokers(env.platform.adminAuth, '/invokers/details')).body as Array<Record<string, unknown>>;
  expect(details[0]).toMatchObject({ id: 'invoker-a', status: 'up', inFlight: 0, factory: expect.stringMatching(/^process/) });
  expect(await invokers(env.platform.auth)).toEqual({ status: 403, body: { error: expect.stringMatching(/not authorized/), code: expect.any(String) } });
  expect(await invokers('')).toMatchObject({ status: 401 });
});

test('an invoker that stops heartbeating goes offline; another invoker records its claimed activation as failed, and it never runs twice', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({
      name: 'held',
      action: `async function main() {
        await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
        await new Promise((r) => setTimeout(r, 3000));
        return { finished: true };
      }`,
    });
    const { activationId } = await wsk.actions.invoke({ name: 'held' });
    await until(async () => channel.hits.get(activationId));
    expect(channel.hits.get(activationId)).toBe(1);

    // Freeze invoker A with the activation claimed (the supervisor sees a live process), and
    // start invoker B on the same queue.
    const frozen = env.platform.processes.invoker;
    frozen.child.kill('SIGSTOP');
    second = await startProcess('invoker-b', 'invoker/main.ts', { ...env.platform.invokerEnv, SKYWHISK_INVOKER_ID: 'invoker-b' }, env.platform.logDir);

    const offline = await until(async () => {
      const map = (await invokers(env.platform.adminAuth)).body as Record<string, string>;
      const a = Object.entries(map).find(([name]) => name.startsWith('invoker-a/'));
      return a?.[1] === 'offline' ? map : undefined;
    });
    expect(Object.values(offline ?? {}).sort()).toEqual(['offline', 'up']);

    const record = await until(async () => {
      const r = (await wsk.activations.get({ name: activationId }).catch(() => undefined)) as { response: { status: string; result: { error?: string } } } | undefined;
      return r;
    }, 300);
    expect(record?.response).toMatchObject({ status: 'whisk internal error', result: { error: expect.stringMatching(/stopped before it finished/) } });

    // A wakes up and finishes the body it had started: its late record does not replace B's.
    frozen.child.kill('SIGCONT');
    const settled = await until(async () => {
      const details = (await invokers(env.platform.adminAuth, '/invokers/details')).body as Array<{ id: string; status: string; inFlight: number }>;
      const a = details.find((d) => d.id === 'invoker-a');
      return a?.status === 'up' && a.inFlight === 0 ? a : undefined;
    }, 300);
    expect(settled).toBeDefined();
    const after = (await wsk.activations.get({ name: activationId })) as { response: { status: string } };
    expect(after.response.status).toBe('whisk internal error');
    expect(channel.hits.get(activationId)).toBe(1);
    const listed = (await wsk.activations.list({ name: 'held', limit: 10 })) as unknown[];
    expect(listed).toHaveLength(1);
    expect(await heldSlots(env)).toBe(0);
    // And A is back up once it heartbeats again.
    const upAgain = await until(async () => {
      const map = (await invokers(env.platform.adminAuth)).body as Record<string, string>;
      return Object.values(map).every((s) => s === 'up') ? map : undefined;
    });
    expect(Object.keys(upAgain ?? {})).toHaveLength(2);
  }), 120_000);

test('a stopped invoker shows as stopped, not offline', async () => {
  await stopProcess(second!, 30_000);
  second = undefined;
  const map = (await invokers(env.platform.adminAuth)).body as Record<string, string>;
  expect(Object.entries(map).find(([name]) => name.startsWith('invoker-b/'))?.[1]).toBe('stopped');
});
