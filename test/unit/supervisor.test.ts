import type { ChildProcess } from 'node:child_process';
import type { ManagedProcess } from '../../lib/local/processes';
import { Supervisor } from '../../lib/local/supervisor';

// The supervisor's policy over processes that end when told (the real processes are exercised in
// test/reliability): replace a crash, never a stop asked for, keep replacing a process that keeps
// crashing (with backoff), and give up only on a process that cannot start.

function fakeProcess(name: string): ManagedProcess & { crash(): void; alive: boolean } {
  let end: (code: number | string) => void = () => undefined;
  const exited = new Promise<number | string>((resolve) => (end = resolve));
  const child = { exitCode: null, signalCode: null, kill: () => end('SIGTERM') } as unknown as ChildProcess;
  const proc = { name, child, ready: { type: 'ready' as const }, exited, alive: true, crash: () => end(1) };
  void exited.then(() => (proc.alive = false));
  return proc;
}

test('a crashed process is replaced and counted; a restart asked for is not a crash', async () => {
  const started: ReturnType<typeof fakeProcess>[] = [];
  const restarted: string[] = [];
  const supervisor = new Supervisor({ onRestart: (name) => restarted.push(name) });
  await supervisor.add('invoker', async () => {
    started.push(fakeProcess('invoker'));
    return started.at(-1)!;
  });
  started[0].crash();
  await started[0].exited;
  await supervisor.replacement('invoker');
  expect(started).toHaveLength(2);
  expect(supervisor.get('invoker')).toBe(started[1]);
  expect(supervisor.restarts.invoker).toBe(1);
  expect(restarted).toEqual(['invoker']);

  await supervisor.restart('invoker', 1000);
  expect(started).toHaveLength(3);
  expect(supervisor.restarts.invoker).toBe(1);
  await supervisor.shutdown();
});

test('a process that crashes again and again is replaced every time, each time after a longer wait', async () => {
  jest.useFakeTimers();
  const reasons: string[] = [];
  let starts = 0;
  const supervisor = new Supervisor({ onGiveUp: (_name, reason) => reasons.push(reason) });
  const current = () => supervisor.get('controller') as ReturnType<typeof fakeProcess>;
  await supervisor.add('controller', async () => {
    starts++;
    return fakeProcess('controller');
  });
  // Nine crashes within a minute (a tenant trying to take the platform down): 200 ms doubling, at most 30 s.
  const waits = [200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000];
  for (const wait of waits) {
    const proc = current();
    proc.crash();
    await proc.exited;
    const replaced = supervisor.replacement('controller');
    const before = starts;
    await jest.advanceTimersByTimeAsync(wait - 1);
    expect(starts).toBe(before);
    await jest.advanceTimersByTimeAsync(1);
    await replaced;
    expect(starts).toBe(before + 1);
    expect(current().alive).toBe(true);
  }
  expect(supervisor.restarts.controller).toBe(9);
  expect(reasons).toEqual([]);
  await supervisor.shutdown();
});

test('after shutdown nothing is replaced', async () => {
  let starts = 0;
  const supervisor = new Supervisor();
  const first = await supervisor.add('invoker', async () => {
    starts++;
    return fakeProcess('invoker');
  });
  await supervisor.shutdown();
  (first as ReturnType<typeof fakeProcess>).crash();
  await first.exited;
  await supervisor.replacement('invoker');
  expect(starts).toBe(1);
});

/** A start function whose calls can be held at the door or made to fail, recording what it started. */
function starter(name: string) {
  const procs: ReturnType<typeof fakeProcess>[] = [];
  const held: Array<() => void> = [];
  const entered: Array<() => void> = [];
  let holding = false;
  let failures = 0;
  let attempts = 0;
  const start = async (): Promise<ManagedProcess> => {
    attempts++;
    entered.splice(0).forEach((tell) => tell());
    if (holding) await new Promise<void>((go) => held.push(go));
    if (failures > 0) {
      failures--;
      throw new Error(`${name} would not start`);
    }
    procs.push(fakeProcess(name));
    return procs.at(-1)!;
  };
  return {
    start,
    procs,
    alive: () => procs.filter((proc) => proc.alive),
    attempts: () => attempts,
    /** Resolves once the next start has been called. */
    entered: () => new Promise<void>((tell) => entered.push(tell)),
    hold: () => void (holding = true),
    release: () => {
      holding = false;
      held.splice(0).forEach((go) => go());
    },
    fail: (times: number) => void (failures = times),
  };
}

async function crash(proc: ReturnType<typeof fakeProcess>): Promise<void> {
  proc.crash();
  await proc.exited;
}

afterEach(() => jest.useRealTimers());

test('a stopOne asked for while a restart is starting the new process stops that process', async () => {
  const invoker = starter('invoker');
  const supervisor = new Supervisor();
  await supervisor.add('invoker', invoker.start);
  invoker.hold();
  const entered = invoker.entered();
  const restarting = supervisor.restart('invoker', 1000);
  await entered;
  const stopping = supervisor.stopOne('invoker', 1000);
  invoker.release();
  await Promise.all([restarting, stopping]);
  expect(invoker.procs).toHaveLength(2);
  expect(invoker.alive()).toEqual([]);
  await supervisor.replacement('invoker');
  expect(invoker.attempts()).toBe(2);
});

test('a shutdown asked for while a restart is starting the new process stops that process', async () => {
  const controller = starter('controller');
  const supervisor = new Supervisor();
  await supervisor.add('controller', controller.start);
  controller.hold();
  const entered = controller.entered();
  const restarting = supervisor.restart('controller', 1000);
  await entered;
  const shuttingDown = supervisor.shutdown();
  controller.release();
  await Promise.all([restarting, shuttingDown]);
  expect(controller.procs).toHaveLength(2);
  expect(controller.alive()).toEqual([]);
});

test('two overlapping restarts leave one process running', async () => {
  const invoker = starter('invoker');
  const supervisor = new Supervisor();
  await supervisor.add('invoker', invoker.start);
  await Promise.all([supervisor.restart('invoker', 1000), supervisor.restart('invoker', 1000)]);
  expect(invoker.procs).toHaveLength(3);
  expect(invoker.alive()).toEqual([invoker.procs[2]]);
  expect(supervisor.get('invoker')).toBe(invoker.procs[2]);
  await supervisor.shutdown();
});

test('a stopOne asked for during a crash backoff cancels the replacement; a later restart starts it again', async () => {
  jest.useFakeTimers();
  const invoker = starter('invoker');
  const supervisor = new Supervisor();
  await supervisor.add('invoker', invoker.start);
  await crash(invoker.procs[0]);
  const stopping = supervisor.stopOne('invoker', 1000);
  await jest.runAllTimersAsync();
  await Promise.all([stopping, supervisor.replacement('invoker')]);
  expect(invoker.attempts()).toBe(1);
  expect(supervisor.restarts.invoker).toBe(0);

  await supervisor.restart('invoker', 1000);
  expect(invoker.alive()).toEqual([invoker.procs[1]]);
  expect(supervisor.get('invoker')).toBe(invoker.procs[1]);
  await supervisor.shutdown();
});

test('a crash just before a stopOne is asked for is not replaced', async () => {
  jest.useFakeTimers();
  const invoker = starter('invoker');
  const supervisor = new Supervisor();
  await supervisor.add('invoker', invoker.start);
  // The exit is seen only after the stop was asked for, as when the process dies as it is told to stop.
  invoker.procs[0].crash();
  const stopping = supervisor.stopOne('invoker', 1000);
  await jest.runAllTimersAsync();
  await Promise.all([stopping, supervisor.replacement('invoker')]);
  expect(invoker.attempts()).toBe(1);
  expect(supervisor.restarts.invoker).toBe(0);
});

test('a replacement that fails to start counts as a crash and is retried with the same backoff', async () => {
  jest.useFakeTimers();
  const giveUps: string[] = [];
  const restarted: string[] = [];
  const controller = starter('controller');
  const supervisor = new Supervisor({ onGiveUp: (_name, reason) => giveUps.push(reason), onRestart: (name) => restarted.push(name) });
  await supervisor.add('controller', controller.start);
  controller.fail(2);
  await crash(controller.procs[0]);
  const replaced = supervisor.replacement('controller');
  // Backoff 200, 400 and 800 ms: the crash, then each failed start.
  for (const [backoff, attempts] of [[200, 2], [400, 3], [800, 4]]) {
    await jest.advanceTimersByTimeAsync(backoff - 1);
    expect(controller.attempts()).toBe(attempts - 1);
    await jest.advanceTimersByTimeAsync(1);
    expect(controller.attempts()).toBe(attempts);
  }
  await replaced;
  expect(giveUps).toEqual([]);
  expect(restarted).toEqual(['controller']);
  expect(supervisor.restarts.controller).toBe(1);
  expect(supervisor.get('controller')).toBe(controller.procs[1]);
  await supervisor.shutdown();
});

test('a process that cannot be started again is given up after five failed starts in a row', async () => {
  jest.useFakeTimers();
  const giveUps: string[] = [];
  const invoker = starter('invoker');
  const supervisor = new Supervisor({ onGiveUp: (_name, reason) => giveUps.push(reason) });
  await supervisor.add('invoker', invoker.start);
  invoker.fail(Infinity);
  await crash(invoker.procs[0]);
  const replaced = supervisor.replacement('invoker');
  await jest.runAllTimersAsync();
  await replaced;
  expect(invoker.attempts()).toBe(1 + 5);
  expect(giveUps).toEqual([expect.stringMatching(/^invoker could not be started again \(5 attempts after exit 1; last: invoker would not start\)$/)]);
  expect(supervisor.restarts.invoker).toBe(0);
});
