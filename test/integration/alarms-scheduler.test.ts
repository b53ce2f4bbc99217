import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createAwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { ensureTables } from '../../lib/store/tables';
import { LocalAlarmScheduler, MAX_TIMER_MS, type AlarmFireContext } from '../../lib/alarms/scheduler';
import { AlarmExistsError, AlarmsRepository, type Alarm } from '../../lib/alarms/store';
import type { AlarmSpec } from '../../lib/alarms/spec';

// The local scheduler against the embedded DynamoDB: alarms persist in the entities table and
// fire from timers; fires are claimed in the store, so restarts and second instances do not
// fire twice.

const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-alarms-'));
const config = configFromEnv({});
const silent = pino({ level: 'silent' });
let endpoint: ManagedProcess;
let repository: AlarmsRepository;
const schedulers: LocalAlarmScheduler[] = [];

interface Fire {
  alarm: Alarm;
  context: AlarmFireContext;
}

beforeAll(async () => {
  // The embedded endpoint runs as its own process (as in local mode), on a loopback port.
  endpoint = await startProcess('endpoint', 'local/endpoint-main.ts', { ...process.env, SKYWHISK_DATA_DIR: dataDir, SKYWHISK_ENDPOINT_PORT: '0' }, join(dataDir, 'logs'));
  const { dynamo } = createAwsClients({ endpoint: `http://127.0.0.1:${endpoint.ready.port}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ensureTables(dynamo, config);
  repository = new AlarmsRepository(dynamo, config.tables.entities);
});

afterEach(async () => {
  for (const scheduler of schedulers.splice(0)) await scheduler.stop();
  for (const alarm of await repository.list()) await repository.delete(alarm.triggerNamespace, alarm.triggerName);
});

afterAll(async () => {
  if (endpoint) await stopProcess(endpoint, 5000);
  rmSync(dataDir, { recursive: true, force: true });
});

function scheduler(options: { refreshIntervalMs?: number; log?: pino.Logger } = {}): LocalAlarmScheduler {
  const created = new LocalAlarmScheduler(repository, options.log ?? silent, { refreshIntervalMs: options.refreshIntervalMs ?? 30_000 });
  schedulers.push(created);
  return created;
}

function recorder(): { fires: Fire[]; fire: (alarm: Alarm, context: AlarmFireContext) => Promise<void> } {
  const fires: Fire[] = [];
  return {
    fires,
    fire: async (alarm, context) => {
      fires.push({ alarm, context });
    },
  };
}

function alarm(namespace: string, name: string, spec: AlarmSpec, extra: Partial<Alarm> = {}): Alarm {
  const now = Date.now();
  return { triggerNamespace: namespace, triggerName: name, ownerUuid: 'owner-uuid', spec, payload: { name: 'Odin' }, status: 'active', created: now, updated: now, ...extra };
}

const everySecond: AlarmSpec = { feed: 'alarm', cron: '*/1 * * * * *' };
const onceIn = (ms: number, deleteAfterFire: 'false' | 'true' | 'rules' = 'false'): AlarmSpec => ({ feed: 'once', date: Date.now() + ms, deleteAfterFire });

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const realSetTimeout = global.setTimeout;
const sleep = (ms: number) => new Promise((resolve) => realSetTimeout(resolve, ms));

test('the repository stores, lists, refuses a second create and deletes', async () => {
  const record = alarm('repo', 't1', { feed: 'interval', minutes: 5, startDate: Date.now() + 60_000 });
  await repository.put(record, { ifAbsent: true });
  await expect(repository.put(record, { ifAbsent: true })).rejects.toBeInstanceOf(AlarmExistsError);
  expect(await repository.get('repo', 't1')).toEqual(record);
  expect((await repository.list()).map((a) => `${a.triggerNamespace}/${a.triggerName}`)).toContain('repo/t1');
  expect(await repository.delete('repo', 't1')).toBe(true);
  expect(await repository.delete('repo', 't1')).toBe(false);
  expect(await repository.get('repo', 't1')).toBeUndefined();
});

test('a once alarm a second ahead fires exactly once, with its payload, and stays with lastFired', async () => {
  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  const spec = onceIn(1500);
  await s.create(alarm('once', 't', spec));
  expect((await s.get('once', 't'))?.nextFire).toBe((spec as { date: number }).date);
  await waitFor(() => fires.length >= 1, 'the once fire');
  expect(fires[0].alarm).toMatchObject({ triggerNamespace: 'once', triggerName: 't', payload: { name: 'Odin' }, lastFired: (spec as { date: number }).date });
  expect(fires[0].context).toEqual({ scheduledTime: (spec as { date: number }).date, deleteAfterFire: 'false' });
  await sleep(1500);
  expect(fires).toHaveLength(1);
  const stored = await s.get('once', 't');
  expect(stored?.lastFired).toBe((spec as { date: number }).date);
  expect(stored?.nextFire).toBeUndefined();
  expect(s.armedAlarms()).toEqual([]);
});

test('a once alarm with deleteAfterFire is removed after its fire, and the callback hears the flag', async () => {
  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  await s.create(alarm('daf', 't', onceIn(300, 'rules')));
  await waitFor(() => fires.length >= 1, 'the fire');
  expect(fires[0].context.deleteAfterFire).toBe('rules');
  await waitFor(async () => (await s.get('daf', 't')) === undefined, 'the alarm to be deleted');
});

test('a seconds cron fires repeatedly; pause stops it, unpause resumes it, delete stops it', async () => {
  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  await s.create(alarm('cron', 't', everySecond));
  await waitFor(() => fires.length >= 2, 'two fires');
  expect(fires[1].context.scheduledTime).toBeGreaterThan(fires[0].context.scheduledTime);
  expect(fires.every((f) => f.context.scheduledTime % 1000 === 0)).toBe(true);

  const paused = await s.setStatus('cron', 't', 'paused');
  expect(paused).toMatchObject({ status: 'paused' });
  expect(paused?.nextFire).toBeUndefined();
  await sleep(300);
  const whilePaused = fires.length;
  await sleep(2500);
  expect(fires).toHaveLength(whilePaused);

  expect(await s.setStatus('cron', 't', 'active')).toMatchObject({ status: 'active' });
  await waitFor(() => fires.length > whilePaused, 'a fire after unpause');

  expect(await s.delete('cron', 't')).toBe(true);
  await sleep(300);
  const afterDelete = fires.length;
  await sleep(2500);
  expect(fires).toHaveLength(afterDelete);
  expect(await s.delete('cron', 't')).toBe(false);
});

test('update re-arms with the new definition and keeps the fire history', async () => {
  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  const cron = alarm('upd', 'cron', everySecond);
  await s.create(cron);
  await waitFor(() => fires.length >= 1, 'a first fire');
  // The caller's copy has no lastFired: the one recorded in the store stays.
  expect(await s.update({ ...cron, payload: { v: 2 }, updated: cron.updated + 1 })).toBe(true);
  expect((await s.get('upd', 'cron'))?.lastFired).toBeGreaterThanOrEqual(fires[0].context.scheduledTime);
  await waitFor(() => fires.some((f) => f.alarm.payload.v === 2), 'a fire with the new payload');
  await s.delete('upd', 'cron');

  const once = alarm('upd', 'once', onceIn(60_000));
  await s.create(once);
  expect(await s.update({ ...once, spec: onceIn(500), updated: once.updated + 1 })).toBe(true);
  await waitFor(() => fires.some((f) => f.alarm.triggerName === 'once'), 'the fire at the new date');
  expect(await s.update(alarm('upd', 'missing', onceIn(60_000)))).toBe(false);
});

test('a second scheduler (a restart) picks the alarms up from the store', async () => {
  const first = scheduler();
  const firstFires = recorder();
  await first.start(firstFires.fire);
  await first.create(alarm('restart', 'once', onceIn(2000)));
  await first.create(alarm('restart', 'cron', everySecond));
  await first.stop();

  const { fires, fire } = recorder();
  const second = scheduler();
  await second.start(fire);
  await waitFor(() => fires.some((f) => f.alarm.triggerName === 'once'), 'the once alarm on the second scheduler');
  await waitFor(() => fires.filter((f) => f.alarm.triggerName === 'cron').length >= 2, 'cron fires on the second scheduler');
  expect(fires.filter((f) => f.alarm.triggerName === 'once')).toHaveLength(1);
});

test('a once alarm past due when the scheduler starts fires once at start, and not again on the next start', async () => {
  const date = Date.now() - 60_000;
  await repository.put(alarm('pastdue', 't', { feed: 'once', date, deleteAfterFire: 'false' }));
  // A recurring alarm whose ticks were missed while no scheduler ran is not replayed.
  await repository.put(alarm('pastdue', 'hourly', { feed: 'alarm', cron: '0 * * * *' }, { lastFired: Date.now() - 5 * 3_600_000 }));

  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  await waitFor(() => fires.length >= 1, 'the past-due fire');
  expect(fires[0].context.scheduledTime).toBe(date);
  await s.stop();

  const again = recorder();
  const restarted = scheduler();
  await restarted.start(again.fire);
  await sleep(1000);
  expect(fires).toHaveLength(1);
  expect(again.fires).toEqual([]);
  const hourly = restarted.armedAlarms().find((a) => a.key === 'pastdue/hourly');
  expect(hourly?.due).toBeGreaterThan(Date.now());
});

test('two schedulers on one store fire each tick once', async () => {
  const a = recorder();
  const b = recorder();
  const first = scheduler({ refreshIntervalMs: 200 });
  const second = scheduler({ refreshIntervalMs: 200 });
  await first.start(a.fire);
  await second.start(b.fire);
  await first.create(alarm('pair', 'once', onceIn(1000)));
  await first.create(alarm('pair', 'cron', everySecond));
  await waitFor(() => [...a.fires, ...b.fires].filter((f) => f.alarm.triggerName === 'cron').length >= 4, 'four cron fires');
  await first.delete('pair', 'cron');
  await sleep(1500);
  const all = [...a.fires, ...b.fires];
  expect(all.filter((f) => f.alarm.triggerName === 'once')).toHaveLength(1);
  const ticks = all.filter((f) => f.alarm.triggerName === 'cron').map((f) => f.context.scheduledTime);
  expect(new Set(ticks).size).toBe(ticks.length);
});

test('alarms written by another process are picked up by the periodic re-read', async () => {
  const { fires, fire } = recorder();
  const s = scheduler({ refreshIntervalMs: 200 });
  await s.start(fire);
  await repository.put(alarm('other', 't', onceIn(400)));
  await waitFor(() => fires.length >= 1, 'the fire of an alarm created elsewhere');
  // ... and a pause made elsewhere disarms it.
  await repository.put(alarm('other', 'cron', everySecond, { status: 'paused' }));
  await sleep(1500);
  expect(fires.filter((f) => f.alarm.triggerName === 'cron')).toEqual([]);
});

test('a fire that throws is logged and the alarm keeps firing', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  let calls = 0;
  const s = scheduler({ log });
  await s.start(async () => {
    calls++;
    if (calls === 1) throw new Error('controller unreachable');
  });
  await s.create(alarm('throws', 't', everySecond));
  await waitFor(() => calls >= 2, 'a fire after the failing one');
  expect(lines.some((line) => line.includes('alarm fire failed') && line.includes('controller unreachable'))).toBe(true);
});

test('an alarm due beyond the 2^31-1 ms timer limit waits instead of firing at once', async () => {
  const { fires, fire } = recorder();
  const s = scheduler();
  await s.start(fire);
  const date = Date.now() + 40 * 86_400_000;
  const delays: number[] = [];
  const spy = jest.spyOn(global, 'setTimeout');
  spy.mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    delays.push(ms ?? 0);
    return realSetTimeout(callback, ms, ...args);
  }) as typeof setTimeout);
  try {
    await s.create(alarm('far', 't', { feed: 'once', date, deleteAfterFire: 'false' }));
    await sleep(500);
  } finally {
    spy.mockRestore();
  }
  expect(fires).toEqual([]);
  expect(s.armedAlarms()).toEqual([{ key: 'far/t', due: date }]);
  // Node would clamp a longer delay to 1 ms (and the timer would spin); it is taken in steps instead.
  expect(delays).toContain(MAX_TIMER_MS);
  expect(delays.filter((ms) => ms > MAX_TIMER_MS)).toEqual([]);
});
