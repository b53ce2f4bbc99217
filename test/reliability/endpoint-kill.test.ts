import { basicAuthHeader, heldSlots, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// The embedded endpoint (the tables and the queue) SIGKILLed under load, once and then twenty
// times at random moments: the supervisor starts it again on the same port with the same data,
// and every activation id handed to a client ends in exactly one record, no action body runs
// twice, and no throttle slot stays taken.

jest.setTimeout(420_000);

let env: TestPlatform;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  // Twenty kills in a row would back the restarts off to 30 s each; a second is enough here.
  env = await startTestPlatform({
    SKYWHISK_RESTART_MAX_BACKOFF_MS: '1000',
    SKYWHISK_QUEUE_VISIBILITY_S: '4',
    SKYWHISK_INVOKER_CONCURRENCY: '24',
    SKYWHISK_MEMORY_BUDGET_MB: '8192',
    SKYWHISK_STEM_CELLS: '',
    // A throttle count a write lost while the endpoint was down is put right within seconds here.
    SKYWHISK_INVOKER_SWEEP_MS: '500',
    SKYWHISK_SLOT_RECONCILE_AFTER_MS: '1000',
  });
  const wsk = env.wsk();
  await wsk.actions.create({
    name: 'tracked',
    action: `async function main({ ms }) {
      await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
      await new Promise((r) => setTimeout(r, ms || 0));
      return { ms };
    }`,
  });
}, 300_000);

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

interface Outcome {
  status: number;
  activationId?: string;
}

async function invoke(blocking: boolean, ms: number): Promise<Outcome> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/tracked?blocking=${blocking}`, {
    method: 'POST',
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  const body = (await response.json()) as { activationId?: string };
  return { status: response.status, activationId: body.activationId ?? response.headers.get('x-openwhisk-activation-id') ?? undefined };
}

async function killEndpoint(): Promise<void> {
  const killed = env.platform.processes.endpoint!;
  killed.child.kill('SIGKILL');
  await killed.exited;
  await env.platform.supervisor.replacement('endpoint');
  expect(env.platform.processes.endpoint).not.toBe(killed);
}

/** Waits until every id has its record; returns the records' status codes by id. */
async function records(ids: Iterable<string>, withinMs: number): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const deadline = Date.now() + withinMs;
  const wanted = [...ids];
  while (found.size < wanted.length && Date.now() < deadline) {
    for (const id of wanted) {
      if (found.has(id)) continue;
      const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/activations/${id}`, { headers: { authorization: basicAuthHeader(env.platform.auth) } });
      if (response.status === 200) found.set(id, ((await response.json()) as { response: { status: string } }).response.status);
    }
    if (found.size < wanted.length) await new Promise((r) => setTimeout(r, 250));
  }
  return found;
}

async function expectNoSlotHeld(): Promise<void> {
  for (let i = 0; i < 40 && (await heldSlots(env)) > 0; i++) await new Promise((r) => setTimeout(r, 250));
  expect(await heldSlots(env)).toBe(0);
}

function expectNoBodyRanTwice(ids: Iterable<string>): void {
  const twice = [...ids].filter((id) => (channel.hits.get(id) ?? 0) > 1);
  expect(twice).toEqual([]);
}

test('one SIGKILL with activations queued, running and finished: one record per id, no body run twice, no slot left', () =>
  withInvokerLog(env, async () => {
    const ids: string[] = [];
    // Finished before the kill.
    for (let n = 0; n < 5; n++) ids.push((await invoke(true, 0)).activationId!);
    // Running (long) and queued behind them.
    for (let n = 0; n < 40; n++) {
      const accepted = await invoke(false, n % 4 === 0 ? 3000 : 200);
      expect(accepted.status).toBe(202);
      ids.push(accepted.activationId!);
    }
    for (let i = 0; i < 200 && channel.hits.size < 15; i++) await new Promise((r) => setTimeout(r, 50));
    await killEndpoint();

    const found = await records(ids, 120_000);
    expect([...found.keys()].sort()).toEqual([...new Set(ids)].sort());
    expect(ids).toHaveLength(new Set(ids).size);
    // Nothing had to be given up on: each ran to its own result.
    expect([...found.values()].filter((status) => status !== 'success')).toEqual([]);
    expectNoBodyRanTwice(ids);
    await expectNoSlotHeld();
  }));

test('twenty SIGKILLs at random moments under load: every id handed out ends in one record, none ran twice', () =>
  withInvokerLog(env, async () => {
    const ids = new Set<string>();
    const refusals = new Map<number, number>();
    let running = true;
    const client = async (blocking: boolean) => {
      for (let n = 0; running; n++) {
        try {
          const outcome = await invoke(blocking, n % 7 === 0 ? 1500 : 20);
          if (outcome.activationId) ids.add(outcome.activationId);
          else refusals.set(outcome.status, (refusals.get(outcome.status) ?? 0) + 1);
        } catch {
          // The controller could not answer at all: no id was handed out.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const clients = [client(true), client(true), client(false), client(false), client(false)];
    const restartsBefore = env.platform.supervisor.restarts.endpoint;
    for (let kill = 0; kill < 20; kill++) {
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 1700));
      await killEndpoint();
    }
    await new Promise((r) => setTimeout(r, 1000));
    running = false;
    await Promise.all(clients);
    expect(env.platform.supervisor.restarts.endpoint - restartsBefore).toBe(20);
    expect(ids.size).toBeGreaterThan(100);

    const found = await records(ids, 180_000);
    expect([...ids].filter((id) => !found.has(id))).toEqual([]);
    expectNoBodyRanTwice(ids);
    await expectNoSlotHeld();
    // Any answer without an id was a server error while the tables were away, never a refusal of the request.
    expect([...refusals.keys()].filter((status) => status < 500)).toEqual([]);
  }));
