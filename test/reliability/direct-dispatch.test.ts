import { readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { configFromEnv } from '../../lib/config';
import { homeOrder } from '../../lib/controller/direct-dispatch';
import { CALL_COUNTS_FILE } from '../../lib/local/endpoint';
import { newActivationId } from '../../lib/model/activation-id';
import { ActivationsRepository } from '../../lib/store/activations';
import { ThrottleCounters } from '../../lib/store/throttle-counters';
import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { InvokerRegistry, type InvokerReport } from '../../lib/store/invoker-registry';
import { basicAuthHeader, heldSlots, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// Blocking activations go straight from the controller to an invoker, whose answer carries the
// record. What must hold whatever breaks: every id handed out ends in exactly one record, no
// action body runs twice, and an activation no invoker surely took still runs, through the queue.

jest.setTimeout(180_000);

let env: TestPlatform;
let registry: InvokerRegistry;
const channel = new SideChannel();
const extraServers: Server[] = [];
/** Controllers read the registry every 300 ms here; a list three times that old is read again before use. */
const DIRECTORY_REFRESH_MS = 1200;

beforeAll(async () => {
  await channel.start();
  env = await startTestPlatform({ SKYWHISK_INVOKER_CONCURRENCY: '2', SKYWHISK_DISPATCH_DIRECTORY_MS: '300', SKYWHISK_STEM_CELLS: '', SKYWHISK_DUPLICATE_RECHECK_S: '1', SKYWHISK_INVOKER_SWEEP_MS: '2000', SKYWHISK_DIRECT_NON_BLOCKING: 'true' });
  registry = new InvokerRegistry(env.clients.dynamo, configFromEnv({}).tables.coordination, 10_000);
  const wsk = env.wsk();
  await wsk.actions.create({ name: 'tracked', action: channel.actionCode() });
  await wsk.actions.create({
    name: 'slow',
    action: `async function main({ ms }) {
      await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
      await new Promise((r) => setTimeout(r, ms));
      return { slept: ms };
    }`,
  });
}, 120_000);

afterAll(async () => {
  for (const server of extraServers) {
    server.closeAllConnections();
    server.close();
  }
  await env?.stop();
  await channel.stop();
});

async function invoke(name: string, params: object = {}, query = ''): Promise<{ status: number; id: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/${name}?blocking=true${query}`, {
    method: 'POST',
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  return { status: response.status, id: response.headers.get('x-openwhisk-activation-id'), body: (await response.json()) as Record<string, unknown> };
}

/** The endpoint's store and queue calls so far, by operation. */
async function callCounts(): Promise<Record<string, number>> {
  const file = join(env.dataDir, 'endpoint', CALL_COUNTS_FILE);
  rmSync(file, { force: true });
  env.platform.processes.endpoint!.child.kill('SIGUSR2');
  for (;;) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function liveInvoker(): Promise<InvokerReport> {
  const [invoker] = (await registry.list()).filter((i) => i.status === 'up' && i.dispatchUrl);
  return invoker;
}

/** Registers a made-up invoker at `url` that is the home of `action`, ahead of the real one; returns how to stop it. */
async function registerHomeOf(action: string, url: string): Promise<() => Promise<void>> {
  const real = await liveInvoker();
  const key = `guest|guest/${action}`;
  const homes = (candidate: string) =>
    homeOrder(key, [
      { id: candidate, url, capacity: 4, holder: `${candidate}/1` },
      { id: real.id, url: real.dispatchUrl!, capacity: 4, holder: `${real.id}/${real.instance}` },
    ])[0].id === candidate;
  let n = 0;
  while (!homes(`made-up-${n}`)) n++;
  const id = `made-up-${n}`;
  const report: InvokerReport = { id, instance: '1', startedAt: Date.now(), state: 'up', inFlight: 0, factory: 'made-up', dispatchUrl: url, capacity: 4 };
  await registry.heartbeat(report);
  await new Promise((r) => setTimeout(r, DIRECTORY_REFRESH_MS));
  return async () => {
    await registry.heartbeat({ ...report, state: 'stopped' });
    await new Promise((r) => setTimeout(r, DIRECTORY_REFRESH_MS));
  };
}

async function recordOf(id: string): Promise<{ response: { status: string; result: Record<string, unknown> } } | undefined> {
  for (let i = 0; i < 240; i++) {
    const record = await env.wsk().activations.get({ name: id }).catch(() => undefined);
    if (record) return record as never;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

async function slotsDrainTo(expected: number): Promise<number> {
  let held = await heldSlots(env);
  for (let i = 0; i < 80 && held !== expected; i++) {
    await new Promise((r) => setTimeout(r, 250));
    held = await heldSlots(env);
  }
  return held;
}

test('warm blocking invokes run straight on the invoker: their records come back on the connection, and the queue is never used', () =>
  withInvokerLog(env, async () => {
    expect((await invoke('tracked')).status).toBe(200);
    const before = await callCounts();
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await invoke('tracked'));
    const after = await callCounts();
    expect(answers.map((a) => [a.status, (a.body.response as { result: unknown }).result])).toEqual(Array(10).fill([200, { ran: true }]));
    expect((after.SendMessage ?? 0) - (before.SendMessage ?? 0)).toBe(0);
    for (const answer of answers) expect(channel.hits.get(answer.id!)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('with SKYWHISK_DIRECT_NON_BLOCKING, non-blocking invokes start straight on the invoker too: no queue, and each id ends in its one record', () =>
  withInvokerLog(env, async () => {
    const before = await callCounts();
    const ids: string[] = [];
    // One at a time, each after the last one's record: with room on the invoker (two slots), a
    // non-blocking invoke has no reason to take the queue. (A burst past the invoker's capacity
    // does take it, as it should, which would make this race the previous runs' ends.)
    for (let i = 0; i < 6; i++) {
      const { activationId } = await env.wsk().actions.invoke({ name: 'tracked' });
      ids.push(activationId);
      expect((await recordOf(activationId))?.response.status).toBe('success');
    }
    const after = await callCounts();
    const sends = (counts: Record<string, number>) => (counts.SendMessage ?? 0) + (counts.SendMessageBatch ?? 0);
    expect(sends(after) - sends(before)).toBe(0);
    for (const id of ids) expect(channel.hits.get(id)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('the invoker is SIGKILLed running a non-blocking activation it accepted: the id handed out ends in one abandoned record, never run again', () =>
  withInvokerLog(env, async () => {
    const hitsBefore = channel.hits.size;
    const { activationId } = await env.wsk().actions.invoke({ name: 'slow', params: { ms: 5000 } });
    while (channel.hits.size === hitsBefore) await new Promise((r) => setTimeout(r, 20));
    env.platform.processes.invoker.child.kill('SIGKILL');
    expect((await recordOf(activationId))?.response.status).toBe('whisk internal error');
    await new Promise((r) => setTimeout(r, 2000));
    expect(channel.hits.get(activationId)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('an invoker that cannot be reached is stepped over: the activation runs once on the next', () =>
  withInvokerLog(env, async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close();
    const unregister = await registerHomeOf('tracked', url);
    try {
      const answer = await invoke('tracked');
      expect(answer.status).toBe(200);
      expect(channel.hits.get(answer.id!)).toBe(1);
    } finally {
      await unregister();
    }
  }));

test('the connection breaks after the invoker accepted it: nothing goes on the queue, and the record comes from the store', () =>
  withInvokerLog(env, async () => {
    const real = await liveInvoker();
    // A made-up invoker in front of the real one: it passes the dispatch on, and once the real
    // invoker has accepted the activation it breaks the controller's connection.
    const cutter = createServer((req, res) => {
      const upstream = request(new URL('/activations', real.dispatchUrl), { method: 'POST', headers: req.headers }, (answer) => {
        answer.resume();
        res.socket?.destroy();
      });
      req.pipe(upstream);
    });
    extraServers.push(cutter);
    await new Promise<void>((r) => cutter.listen(0, '127.0.0.1', r));
    const before = await callCounts();
    const unregister = await registerHomeOf('slow', `http://127.0.0.1:${(cutter.address() as AddressInfo).port}`);
    try {
      const answer = await invoke('slow', { ms: 1500 });
      expect(answer.status).toBe(200);
      expect((answer.body.response as { result: unknown }).result).toEqual({ slept: 1500 });
      expect((await callCounts()).SendMessage ?? 0).toBe(before.SendMessage ?? 0);
      expect(channel.hits.get(answer.id!)).toBe(1);
      expect(await slotsDrainTo(0)).toBe(0);
    } finally {
      await unregister();
    }
  }));

test('an invoker that took the dispatch and never answered: it runs nowhere else, and its id ends in one abandoned record once that invoker is gone', () =>
  withInvokerLog(env, async () => {
    const swallowed: string[] = [];
    const blackHole = createServer((req) => {
      req.on('data', (chunk: Buffer) => swallowed.push(chunk.toString('utf8')));
      req.on('end', () => req.socket.destroy());
    });
    extraServers.push(blackHole);
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    const before = await callCounts();
    const unregister = await registerHomeOf('tracked', `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`);
    let id: string;
    try {
      // Its holder still looks alive when the wait ends: the client gets the id.
      const answer = await invoke('tracked', {}, '&timeout=2000');
      expect(answer.status).toBe(202);
      id = answer.id!;
      expect(swallowed.join('')).toContain(id);
    } finally {
      await unregister();
    }
    // Gone (stopped), its claims are swept: the one written in its name is recorded.
    expect((await recordOf(id))?.response.status).toBe('whisk internal error');
    expect(channel.hits.get(id)).toBeUndefined();
    expect((await callCounts()).SendMessage ?? 0).toBe(before.SendMessage ?? 0);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('a claim a controller wrote for an invoker after that invoker’s last heartbeat is still swept once it is gone', async () => {
  const config = configFromEnv({});
  const lastHeartbeat = Date.now() - 70_000;
  await registry.heartbeat({ id: 'died-silently', instance: '1', startedAt: lastHeartbeat - 1000, state: 'up', inFlight: 1, factory: 'made-up' }, lastHeartbeat);
  const id = newActivationId();
  await new ThrottleCounters(env.clients.dynamo, config.tables.coordination).admit('guest', id, { perMinute: 1000, concurrent: 100 });
  const about = { subject: 'guest', action: { namespace: 'guest', path: 'tracked', revision: '1' }, transactionId: 't', acceptedAt: Date.now(), admitted: true };
  await new ActivationsRepository(env.clients.dynamo, config.tables.activations, 1).claimOnBehalf('guest', id, 'died-silently/1', about);
  expect((await recordOf(id))?.response.status).toBe('whisk internal error');
  expect(await slotsDrainTo(0)).toBe(0);
});

test('the invoker stalls (SIGSTOP) before it answers: the activation waits for it rather than the queue, and runs once when it wakes', () =>
  withInvokerLog(env, async () => {
    const before = await callCounts();
    const stalled = env.platform.processes.invoker;
    stalled.child.kill('SIGSTOP');
    let answer: Awaited<ReturnType<typeof invoke>>;
    try {
      answer = await invoke('tracked', {}, '&timeout=2000');
    } finally {
      stalled.child.kill('SIGCONT');
    }
    expect(answer.status).toBe(202);
    expect((await recordOf(answer.id!))?.response.status).toBe('success');
    expect(channel.hits.get(answer.id!)).toBe(1);
    expect((await callCounts()).SendMessage ?? 0).toBe(before.SendMessage ?? 0);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('the invoker stalls longer than a claim may wait: the dispatch it finds on waking runs once and matches its one record, or not at all', () =>
  withInvokerLog(env, async () => {
    const stalled = env.platform.processes.invoker;
    stalled.child.kill('SIGSTOP');
    let answer: Awaited<ReturnType<typeof invoke>>;
    try {
      answer = await invoke('tracked', {}, '&timeout=1000');
      // Past the age at which the holder records a claim it does not work on as abandoned.
      await new Promise((r) => setTimeout(r, 12_000));
    } finally {
      stalled.child.kill('SIGCONT');
    }
    expect(answer.status).toBe(202);
    const record = await recordOf(answer.id!);
    await new Promise((r) => setTimeout(r, 2000));
    // Whichever came first on waking (its sweep or the waiting request), what ran is what the record says.
    if (record?.response.status === 'success') expect(channel.hits.get(answer.id!)).toBe(1);
    else {
      expect(record?.response.status).toBe('whisk internal error');
      expect(channel.hits.get(answer.id!)).toBeUndefined();
    }
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('more blocking invokes than the invoker runs at once wait for it a moment, not on the queue', () =>
  withInvokerLog(env, async () => {
    const before = await callCounts();
    // The invoker runs two at once; the others wait for one of them (up to 2 s).
    const answers = await Promise.all(Array.from({ length: 4 }, () => invoke('slow', { ms: 200 })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect((await callCounts()).SendMessage ?? 0).toBe(before.SendMessage ?? 0);
    for (const answer of answers) expect(channel.hits.get(answer.id!)).toBe(1);
  }));

test('a home invoker full for longer: the overflow goes through the queue, and every activation runs once', () =>
  withInvokerLog(env, async () => {
    const before = await callCounts();
    // Two run for 4 s; the other three give up waiting after 2 s and go on the queue.
    const answers = await Promise.all(Array.from({ length: 5 }, () => invoke('slow', { ms: 4000 })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    // Three messages, sent one by one or together in a batch.
    const after = await callCounts();
    const sends = (counts: Record<string, number>) => (counts.SendMessage ?? 0) + (counts.SendMessageBatch ?? 0);
    expect(sends(after) - sends(before)).toBeGreaterThanOrEqual(1);
    expect(sends(after) - sends(before)).toBeLessThanOrEqual(3);
    for (const answer of answers) expect(channel.hits.get(answer.id!)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

describe('with a second invoker', () => {
  let second: ManagedProcess | undefined;

  afterAll(async () => {
    if (second) await stopProcess(second, 30_000);
    await new Promise((r) => setTimeout(r, DIRECTORY_REFRESH_MS));
  });

  test('repeated calls of one action land warm on its home invoker: one cold start per action', () =>
    withInvokerLog(env, async () => {
      second = await startProcess('invoker-b', 'invoker/main.ts', { ...env.platform.invokerEnv, SKYWHISK_INVOKER_ID: 'invoker-b' }, env.platform.logDir);
      await new Promise((r) => setTimeout(r, DIRECTORY_REFRESH_MS));
      expect((await registry.list()).filter((i) => i.status === 'up' && i.dispatchUrl)).toHaveLength(2);
      const wsk = env.wsk();
      for (const name of ['affine-a', 'affine-b', 'affine-c', 'affine-d']) {
        await wsk.actions.create({ name, action: 'function main() { return { pid: process.pid }; }' });
        const answers = [];
        for (let i = 0; i < 6; i++) answers.push(await invoke(name));
        const cold = answers.filter((a) => (a.body.annotations as Array<{ key: string }>).some((annotation) => annotation.key === 'initTime'));
        expect(cold).toHaveLength(1);
        expect(new Set(answers.map((a) => (a.body.response as { result: { pid: number } }).result.pid)).size).toBe(1);
      }
    }));
});

test('the invoker is SIGKILLed during a direct dispatch: the client gets the activation’s one record, and the body ran once', () =>
  withInvokerLog(env, async () => {
    const hitsBefore = channel.hits.size;
    const pending = invoke('slow', { ms: 5000 });
    while (channel.hits.size === hitsBefore) await new Promise((r) => setTimeout(r, 20));
    const killed = env.platform.processes.invoker;
    killed.child.kill('SIGKILL');
    const answer = await pending;
    expect(answer.id).toEqual(expect.any(String));
    // The controller wrote a claim in the dead process's name; its replacement found it and recorded it: a whisk error.
    expect(answer.status).toBe(500);
    expect(answer.body.response).toMatchObject({ status: 'whisk internal error' });
    expect((await recordOf(answer.id!))?.response.status).toBe('whisk internal error');
    expect(channel.hits.get(answer.id!)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));

test('the controller is SIGKILLed while it waits on a direct dispatch: the activation still ends in its one record', () =>
  withInvokerLog(env, async () => {
    const hitsBefore = new Set(channel.hits.keys());
    const pending = invoke('slow', { ms: 2000 }).then(
      () => 'answered',
      () => 'connection lost',
    );
    while (channel.hits.size === hitsBefore.size) await new Promise((r) => setTimeout(r, 20));
    const id = [...channel.hits.keys()].find((key) => !hitsBefore.has(key))!;
    env.platform.processes.controller.child.kill('SIGKILL');
    expect(await pending).toBe('connection lost');
    // The supervisor brings the controller back on its port; the invoker finished meanwhile.
    const record = await recordOf(id);
    expect(record?.response).toMatchObject({ status: 'success', result: { slept: 2000 } });
    expect(channel.hits.get(id)).toBe(1);
    expect(await slotsDrainTo(0)).toBe(0);
  }));
