import type { ChildProcess } from 'node:child_process';
import type { ManagedProcess } from '../../lib/local/processes';
import { Supervisor } from '../../lib/local/supervisor';

// The supervisor's policy over processes that end when told (the real processes are exercised in
// test/reliability): replace a crash, never a stop asked for, and give up on a crash loop.

function fakeProcess(name: string): ManagedProcess & { crash(): void } {
  let end: (code: number | string) => void = () => undefined;
  const exited = new Promise<number | string>((resolve) => (end = resolve));
  const child = { exitCode: null, signalCode: null, kill: () => end('SIGTERM') } as unknown as ChildProcess;
  return { name, child, ready: { type: 'ready' }, exited, crash: () => end(1) };
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

test('more than five crashes within a minute is a crash loop: it gives up instead of replacing', async () => {
  const reasons: string[] = [];
  let starts = 0;
  const supervisor = new Supervisor({ onGiveUp: (_name, reason) => reasons.push(reason) });
  const current = () => supervisor.get('controller') as ReturnType<typeof fakeProcess>;
  await supervisor.add('controller', async () => {
    starts++;
    return fakeProcess('controller');
  });
  for (let crash = 1; crash <= 6; crash++) {
    const proc = current();
    proc.crash();
    await proc.exited;
    await supervisor.replacement('controller');
  }
  expect(starts).toBe(6);
  expect(reasons).toEqual([expect.stringMatching(/controller crashed 6 times within a minute/)]);
}, 30_000);

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
