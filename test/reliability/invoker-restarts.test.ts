import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess } from '../../lib/local/processes';
import { basicAuthHeader, heldSlots, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// What a restarted invoker does with what its predecessor left, however often that happens: the
// supervisor keeps replacing it, the claims it held (sequence components too) end in records at
// once, and a second process cannot take over an id that a live one uses.

jest.setTimeout(300_000);

let env: TestPlatform;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  // Crashes six times in a row would back restarts off to 6.4 s; half a second is enough here.
  env = await startTestPlatform({ SKYWHISK_RESTART_MAX_BACKOFF_MS: '500', SKYWHISK_STEM_CELLS: '' });
}, 120_000);

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

async function killInvoker(): Promise<void> {
  const killed = env.platform.processes.invoker;
  killed.child.kill('SIGKILL');
  await killed.exited;
  await env.platform.supervisor.replacement('invoker');
  expect(env.platform.processes.invoker).not.toBe(killed);
}

async function until<T>(probe: () => Promise<T | undefined>, withinMs = 60_000): Promise<T | undefined> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('six crashes of the invoker within a minute: the platform still serves afterwards', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'hello', action: 'function main() { return { hello: true }; }' });
    const before = env.platform.supervisor.restarts.invoker;
    for (let crash = 0; crash < 6; crash++) await killInvoker();
    expect(env.platform.supervisor.restarts.invoker - before).toBe(6);
    const result = await wsk.actions.invoke({ name: 'hello', blocking: true, result: true });
    expect(result).toEqual({ hello: true });
  }));

test('a sequence whose invoker dies inside a component: the sequence and the component each end in one record, the body ran once, no slot is left', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({
      name: 'slow-step',
      action: `async function main() {
        await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
        await new Promise((r) => setTimeout(r, 30000));
        return { done: true };
      }`,
    });
    await wsk.actions.create({ name: 'pipeline', action: '', exec: { kind: 'sequence', components: ['/_/slow-step'] } } as never);
    const { activationId } = await wsk.actions.invoke({ name: 'pipeline' });
    const component = await until(async () => [...channel.hits.keys()][0]);
    expect(component).toBeDefined();
    await killInvoker();

    const get = async (id: string) => {
      const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/activations/${id}`, { headers: { authorization: basicAuthHeader(env.platform.auth) } });
      return response.status === 200 ? ((await response.json()) as { response: { status: string; result: { error?: string } } }) : undefined;
    };
    // The replacement records both at its start, without waiting for any message to come back.
    const componentRecord = await until(() => get(component!), 20_000);
    const sequenceRecord = await until(() => get(activationId), 20_000);
    expect(componentRecord?.response).toMatchObject({ status: 'whisk internal error', result: { error: expect.stringMatching(/stopped before it finished/) } });
    expect(sequenceRecord?.response.status).toBe('whisk internal error');
    const listed = (await wsk.activations.list({ name: 'slow-step', limit: 10 })) as Array<{ activationId: string }>;
    expect(listed.map((a) => a.activationId)).toEqual([component]);
    expect(channel.hits.get(component!)).toBe(1);
    expect(await until(async () => ((await heldSlots(env)) === 0 ? true : undefined), 20_000)).toBe(true);
  }));

test('a second invoker process with the id of a live one refuses to start, and says why', async () => {
  const liveInvoker = env.platform.processes.invoker;
  await expect(startProcess('invoker-twin', 'invoker/main.ts', env.platform.invokerEnv, env.platform.logDir)).rejects.toThrow(/exited/);
  const log = readFileSync(join(env.platform.logDir, 'invoker-twin.log'), 'utf8');
  expect(log).toMatch(/is in use by a live invoker process/);
  // The live one was not disturbed.
  expect(env.platform.processes.invoker).toBe(liveInvoker);
  expect(await env.wsk().actions.invoke({ name: 'hello', blocking: true, result: true })).toEqual({ hello: true });
});

test('each data dir has its own invoker id, kept across restarts', async () => {
  const id = readFileSync(join(env.dataDir, 'platform-id'), 'utf8').trim();
  expect(env.platform.invokerEnv.SKYWHISK_INVOKER_ID).toBe(`invoker-${id}`);
  expect((await env.platform.invokerStatus()).id).toBe(`invoker-${id}`);
});
