import { basicAuthHeader, startTestPlatform, type TestPlatform } from '../helpers/platform';

// The built-in /whisk.system/alarms feeds driven through the feed lifecycle, as the `openwhisk`
// client and wsk drive them: the feed action (a real action) registers the alarm with the
// provider route, and the scheduler fires the trigger on time.

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform();
  await env.wsk().actions.create({ name: 'recorder', action: 'function main(p) { return p; }' });
});

afterAll(async () => {
  await env?.stop();
});

async function activationsOf(name: string): Promise<any[]> {
  const list: any[] = await env.wsk().activations.list({ name, docs: true, limit: 200 } as any);
  return list;
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the alarms package is shared by whisk.system with its three feeds', async () => {
  const pkg: any = await env.wsk().packages.get({ name: '/whisk.system/alarms' });
  expect(pkg.publish).toBe(true);
  expect(pkg.feeds.map((f: { name: string }) => f.name).sort()).toEqual(['alarm', 'interval', 'once']);
});

test('a once feed a few seconds ahead fires its trigger exactly once, with the trigger payload', async () => {
  const ow = env.wsk();
  await ow.triggers.create({ name: 'wakeup' });
  await ow.rules.create({ name: 'wakeupRule', trigger: 'wakeup', action: 'recorder' });
  const date = new Date(Date.now() + 3000).toISOString();
  const created: any = await ow.feeds.create({ name: '/whisk.system/alarms/once', trigger: 'wakeup', params: { date, trigger_payload: { reason: 'alarm' } } });
  expect(created.response.success).toBe(true);

  const read: any = await (ow.feeds as any).get({ name: '/whisk.system/alarms/once', trigger: 'wakeup' });
  expect(read.response.result.config).toMatchObject({ date, payload: { reason: 'alarm' } });

  const [fired] = await eventually(async () => {
    const found = await activationsOf('recorder');
    return found.length ? found : undefined;
  }, 30_000);
  expect(fired.response.result).toEqual({ reason: 'alarm' });
  expect(fired.start).toBeGreaterThanOrEqual(Date.parse(date));
  // The trigger activation that caused it.
  const triggerRecord: any = await ow.activations.get({ name: fired.cause });
  expect(triggerRecord.name).toBe('wakeup');
  // Once means once.
  await new Promise((r) => setTimeout(r, 2000));
  expect(await activationsOf('recorder')).toHaveLength(1);
});

test('an alarm with a seconds cron fires repeatedly; PAUSE stops it; DELETE removes it', async () => {
  const ow = env.wsk();
  await ow.actions.create({ name: 'ticker', action: 'function main(p) { return p; }' });
  await ow.triggers.create({ name: 'tick' });
  await ow.rules.create({ name: 'tickRule', trigger: 'tick', action: 'ticker' });
  await ow.feeds.create({ name: '/whisk.system/alarms/alarm', trigger: 'tick', params: { cron: '* * * * * *' } });
  await eventually(async () => ((await activationsOf('ticker')).length >= 2 ? true : undefined), 30_000);

  const pause = await fetch(`${env.platform.apiHost}/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true&result=true`, {
    method: 'POST',
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
    body: JSON.stringify({ lifecycleEvent: 'PAUSE', triggerName: '/guest/tick', authKey: env.platform.auth }),
  });
  expect(await pause.json()).toEqual({ status: 'success' });
  await new Promise((r) => setTimeout(r, 1500));
  const afterPause = (await activationsOf('ticker')).length;
  await new Promise((r) => setTimeout(r, 2500));
  expect((await activationsOf('ticker')).length).toBe(afterPause);

  const deleted: any = await ow.feeds.delete({ name: '/whisk.system/alarms/alarm', trigger: 'tick' });
  expect(deleted.response.success).toBe(true);
  const readAgain: any = await (ow.feeds as any).get({ name: '/whisk.system/alarms/alarm', trigger: 'tick' }).catch((error: any) => error.error);
  expect(readAgain.response.success).toBe(false);
});

test('a feed refuses bad parameters and a trigger that does not exist, as an application error', async () => {
  const ow = env.wsk();
  await ow.triggers.create({ name: 'badAlarm' });
  const badCron: any = await ow.feeds.create({ name: '/whisk.system/alarms/alarm', trigger: 'badAlarm', params: { cron: 'not a cron' } }).catch((error: any) => error.error);
  expect(badCron.response).toMatchObject({ success: false, status: 'application error' });
  expect(badCron.response.result.error).toMatch(/cron/i);
  const past: any = await ow.feeds.create({ name: '/whisk.system/alarms/once', trigger: 'badAlarm', params: { date: '2001-01-01T00:00:00Z' } }).catch((error: any) => error.error);
  expect(past.response.success).toBe(false);
  const noTrigger: any = await ow.feeds.create({ name: '/whisk.system/alarms/interval', trigger: 'ghost', params: { minutes: 1 } }).catch((error: any) => error.error);
  expect(noTrigger.response.result.error).toMatch(/does not exist/);
});
