import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// An invoker that stalls for 15 s (SIGSTOP, then SIGCONT) while holding activations, with a
// second invoker on the same queue: the stall is shorter than the lease, so nobody takes its work
// over; it wakes, finishes, and every activation has its own result, each body run once.

jest.setTimeout(180_000);

let env: TestPlatform;
let second: ManagedProcess | undefined;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  env = await startTestPlatform({
    // Messages of the stalled invoker come back to the other one during the stall.
    SKYWHISK_QUEUE_VISIBILITY_S: '3',
    SKYWHISK_DUPLICATE_RECHECK_S: '2',
    // ...again and again, rather than moving to the dead-letter queue after three receives.
    SKYWHISK_QUEUE_MAX_RECEIVE: '100',
    SKYWHISK_INVOKER_HEARTBEAT_MS: '500',
    SKYWHISK_STEM_CELLS: '',
  });
}, 120_000);

afterAll(async () => {
  env?.platform.processes.invoker.child.kill('SIGCONT');
  if (second) await stopProcess(second, 30_000);
  await env?.stop();
  await channel.stop();
});

test('a 15 s stall loses no result and runs nothing twice', () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    await wsk.actions.create({
      name: 'steady',
      action: `async function main() {
        await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
        await new Promise((r) => setTimeout(r, 2000));
        return { finished: process.env.__OW_ACTIVATION_ID };
      }`,
    });
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push((await wsk.actions.invoke({ name: 'steady' })).activationId);
    for (let i = 0; i < 200 && channel.hits.size < 6; i++) await new Promise((r) => setTimeout(r, 50));
    expect(channel.hits.size).toBe(6);

    const stalled = env.platform.processes.invoker;
    stalled.child.kill('SIGSTOP');
    second = await startProcess('invoker-b', 'invoker/main.ts', { ...env.platform.invokerEnv, SKYWHISK_INVOKER_ID: 'invoker-b' }, env.platform.logDir);
    await new Promise((r) => setTimeout(r, 15_000));
    stalled.child.kill('SIGCONT');

    for (const id of ids) {
      let record: { response: { status: string; result: { finished?: string } } } | undefined;
      for (let i = 0; i < 120 && !record; i++) {
        record = (await wsk.activations.get({ name: id }).catch(() => undefined)) as typeof record;
        if (!record) await new Promise((r) => setTimeout(r, 250));
      }
      expect(record?.response).toEqual(expect.objectContaining({ status: 'success', result: { finished: id } }));
    }
    expect([...channel.hits.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    // The stalled invoker was never replaced: it was alive all along.
    expect(env.platform.processes.invoker).toBe(stalled);
  }));
