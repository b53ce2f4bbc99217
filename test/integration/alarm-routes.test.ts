import { Hono } from 'hono';
import type { ControllerEnv } from '../../lib/controller/context';
import { WhiskError } from '../../lib/controller/errors';
import { registerAlarmRoutes } from '../../lib/controller/alarm-routes';
import { AlarmExistsError, dueTime, type Alarm, type AlarmScheduler, type AlarmStatus } from '../../lib/alarms/scheduler';
import type { Identity } from '../../lib/store/subjects';

// The provider API on a Hono app with a stub identity (the controller's basic auth is not under
// test here) and an in-memory AlarmScheduler; then the feed action's source run against it, its
// fetch answered by the same app.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const feedAction = require('../../lib/alarms/feed-action.js') as { main(params: Record<string, unknown>): Promise<any> };

const IDENTITIES: Record<string, Identity> = {
  'guest-uuid': { subject: 'guest', namespace: 'guest', uuid: 'guest-uuid', limits: {} },
  'other-uuid': { subject: 'other', namespace: 'other', uuid: 'other-uuid', limits: {} },
};
const GUEST_KEY = 'guest-uuid:secret';

class MemoryScheduler implements AlarmScheduler {
  readonly alarms = new Map<string, Alarm>();
  async create(alarm: Alarm): Promise<void> {
    const key = `${alarm.triggerNamespace}/${alarm.triggerName}`;
    if (this.alarms.has(key)) throw new AlarmExistsError(key);
    this.alarms.set(key, { ...alarm, nextFire: dueTime(alarm, Date.now()) });
  }
  async get(namespace: string, trigger: string): Promise<Alarm | undefined> {
    return this.alarms.get(`${namespace}/${trigger}`);
  }
  async update(alarm: Alarm): Promise<boolean> {
    const key = `${alarm.triggerNamespace}/${alarm.triggerName}`;
    const existing = this.alarms.get(key);
    if (!existing) return false;
    this.alarms.set(key, { ...alarm, lastFired: existing.lastFired, nextFire: dueTime(alarm, Date.now()) });
    return true;
  }
  async delete(namespace: string, trigger: string): Promise<boolean> {
    return this.alarms.delete(`${namespace}/${trigger}`);
  }
  async setStatus(namespace: string, trigger: string, status: AlarmStatus): Promise<Alarm | undefined> {
    const existing = this.alarms.get(`${namespace}/${trigger}`);
    if (!existing) return undefined;
    const changed = { ...existing, status, updated: existing.updated + 1 };
    this.alarms.set(`${namespace}/${trigger}`, { ...changed, nextFire: dueTime(changed, Date.now()) });
    return this.alarms.get(`${namespace}/${trigger}`);
  }
}

let scheduler: MemoryScheduler;
let triggers: Set<string>;
let app: Hono<ControllerEnv>;

beforeEach(() => {
  scheduler = new MemoryScheduler();
  triggers = new Set(['guest/t', 'guest/u', 'other/t']);
  app = new Hono<ControllerEnv>();
  const api = new Hono<ControllerEnv>();
  api.use('/namespaces/*', async (c, next) => {
    const match = /^Basic (.+)$/.exec(c.req.header('authorization') ?? '');
    const uuid = match ? Buffer.from(match[1], 'base64').toString('utf8').split(':')[0] : '';
    const identity = IDENTITIES[uuid];
    if (!identity) throw new WhiskError(401, 'The supplied authentication is invalid');
    c.set('identity', identity);
    await next();
  });
  registerAlarmRoutes(api, scheduler, async (namespace, name) => triggers.has(`${namespace}/${name}`));
  app.route('/api/v1', api);
  app.onError((error, c) => {
    if (error instanceof WhiskError) return c.json({ error: error.message, code: 'tid' }, error.status);
    return c.json({ error: `unexpected: ${String(error)}` }, 500);
  });
});

async function call(method: string, path: string, body?: unknown, key = GUEST_KEY): Promise<{ status: number; body: any }> {
  const response = await app.request(`http://127.0.0.1/api/v1/${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from(key).toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const future = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('provider routes', () => {
  test('PUT creates an alarm owned by the caller; GET reads it', async () => {
    const date = future(3_600_000);
    const created = await call('PUT', 'namespaces/_/alarms/t', { feed: 'once', date, trigger_payload: { name: 'Odin' }, deleteAfterFire: 'true' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      triggerNamespace: 'guest',
      triggerName: 't',
      ownerUuid: 'guest-uuid',
      spec: { feed: 'once', date: Date.parse(date), deleteAfterFire: 'true' },
      payload: { name: 'Odin' },
      status: 'active',
      nextFire: Date.parse(date),
    });
    const read = await call('GET', 'namespaces/guest/alarms/t');
    expect(read).toEqual({ status: 200, body: created.body });
  });

  test.each([
    [{ feed: 'once', date: '2001-01-01T00:00:00Z' }, "date parameter '2001-01-01T00:00:00Z' must be in the future"],
    [{ feed: 'once' }, 'alarms once trigger feed is missing the date parameter'],
    [{ feed: 'interval', minutes: 'x' }, 'the minutes parameter must be an integer'],
    [{ feed: 'alarm', cron: '* * *' }, "cron pattern '* * *' is not valid"],
    [{ feed: 'alarm', cron: '* * * * *', timezone: 'Nowhere/Land' }, 'Invalid timezone.'],
    [{ cron: '* * * * *' }, 'feed parameter must be one of [alarm, interval, once].'],
  ])('PUT %j is a 400 (%s) and stores nothing', async (body, message) => {
    const response = await call('PUT', 'namespaces/_/alarms/t', body);
    expect(response).toEqual({ status: 400, body: { error: message, code: 'tid' } });
    expect(scheduler.alarms.size).toBe(0);
  });

  test('a body that is not a JSON object is a 400', async () => {
    expect((await call('PUT', 'namespaces/_/alarms/t', 'not json')).status).toBe(400);
    expect((await call('PUT', 'namespaces/_/alarms/t', [1])).status).toBe(400);
    expect(scheduler.alarms.size).toBe(0);
  });

  test('an alarm for a trigger that does not exist is a 404 and stores nothing', async () => {
    const response = await call('PUT', 'namespaces/_/alarms/ghost', { feed: 'interval', minutes: 5 });
    expect(response).toEqual({ status: 404, body: { error: "The trigger '/guest/ghost' does not exist.", code: 'tid' } });
    expect(scheduler.alarms.size).toBe(0);
  });

  test('a second PUT without overwrite is a 409; the first alarm stays', async () => {
    await call('PUT', 'namespaces/_/alarms/t', { feed: 'interval', minutes: 5 });
    const again = await call('PUT', 'namespaces/_/alarms/t', { feed: 'interval', minutes: 7 });
    expect(again).toEqual({ status: 409, body: { error: 'resource already exists', code: 'tid' } });
    expect(scheduler.alarms.get('guest/t')?.spec).toMatchObject({ minutes: 5 });
  });

  test('PUT with overwrite changes only the given parameters, and reactivates', async () => {
    const startDate = future(600_000);
    await call('PUT', 'namespaces/_/alarms/t', { feed: 'interval', minutes: 5, startDate, trigger_payload: { a: 1 } });
    await call('POST', 'namespaces/_/alarms/t', { status: 'paused' });
    const updated = await call('PUT', 'namespaces/_/alarms/t?overwrite=true', { feed: 'interval', minutes: 10 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ spec: { feed: 'interval', minutes: 10, startDate: Date.parse(startDate) }, payload: { a: 1 }, status: 'active' });

    const nothing = await call('PUT', 'namespaces/_/alarms/t?overwrite=true', { feed: 'interval' });
    expect(nothing).toEqual({ status: 400, body: { error: 'no updatable parameters were specified', code: 'tid' } });
    const otherFeed = await call('PUT', 'namespaces/_/alarms/t?overwrite=true', { feed: 'once', date: future(60_000) });
    expect(otherFeed.status).toBe(400);
    expect(scheduler.alarms.get('guest/t')?.spec).toMatchObject({ feed: 'interval', minutes: 10 });

    // Overwrite of an alarm that does not exist creates it.
    const created = await call('PUT', 'namespaces/_/alarms/u?overwrite=true', { feed: 'alarm', cron: '0 * * * *' });
    expect(created.body).toMatchObject({ spec: { feed: 'alarm', cron: '0 * * * *' } });
  });

  test("another namespace is a 403 for every method, and nothing is stored", async () => {
    const forbidden = { error: 'The supplied authentication is not authorized to access this resource.', code: 'tid' };
    expect(await call('PUT', 'namespaces/other/alarms/t', { feed: 'interval', minutes: 5 })).toEqual({ status: 403, body: forbidden });
    await call('PUT', 'namespaces/_/alarms/t', { feed: 'interval', minutes: 5 }, 'other-uuid:k');
    expect(await call('GET', 'namespaces/other/alarms/t')).toEqual({ status: 403, body: forbidden });
    expect(await call('POST', 'namespaces/other/alarms/t', { status: 'paused' })).toEqual({ status: 403, body: forbidden });
    expect(await call('DELETE', 'namespaces/other/alarms/t')).toEqual({ status: 403, body: forbidden });
    expect([...scheduler.alarms.keys()]).toEqual(['other/t']);
    expect(scheduler.alarms.get('other/t')?.status).toBe('active');
  });

  test('an invalid trigger name is a 400', async () => {
    const response = await call('PUT', `namespaces/_/alarms/${encodeURIComponent(' bad')}`, { feed: 'interval', minutes: 5 });
    expect(response.status).toBe(400);
    expect(scheduler.alarms.size).toBe(0);
  });

  test('POST pauses and resumes; a bad status is a 400, a missing alarm a 404', async () => {
    await call('PUT', 'namespaces/_/alarms/t', { feed: 'alarm', cron: '*/5 * * * *' });
    const paused = await call('POST', 'namespaces/_/alarms/t', { status: 'paused' });
    expect(paused.body).toMatchObject({ status: 'paused' });
    expect(paused.body.nextFire).toBeUndefined();
    const resumed = await call('POST', 'namespaces/_/alarms/t', { status: 'active' });
    expect(resumed.body).toMatchObject({ status: 'active' });
    expect(resumed.body.nextFire).toBeGreaterThan(Date.now());
    expect((await call('POST', 'namespaces/_/alarms/t', { status: 'sleeping' })).status).toBe(400);
    expect((await call('POST', 'namespaces/_/alarms/u', { status: 'paused' })).status).toBe(404);
  });

  test('DELETE removes the alarm (even when the trigger is gone); then GET and DELETE are 404', async () => {
    await call('PUT', 'namespaces/_/alarms/t', { feed: 'interval', minutes: 5 });
    triggers.delete('guest/t');
    const deleted = await call('DELETE', 'namespaces/_/alarms/t');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ triggerName: 't' });
    expect(scheduler.alarms.size).toBe(0);
    expect(await call('GET', 'namespaces/_/alarms/t')).toEqual({ status: 404, body: { error: 'The requested resource does not exist.', code: 'tid' } });
    expect((await call('DELETE', 'namespaces/_/alarms/t')).status).toBe(404);
  });
});

describe('the feed action against the provider routes', () => {
  const saved = { fetch: globalThis.fetch, host: process.env.__OW_API_HOST, name: process.env.__OW_ACTION_NAME };
  const requests: Array<{ method: string; url: string; authorization: string | null; body: any }> = [];

  beforeEach(() => {
    requests.length = 0;
    process.env.__OW_API_HOST = 'http://127.0.0.1:3233';
    globalThis.fetch = (async (input: string, init: RequestInit) => {
      const headers = new Headers(init.headers);
      requests.push({ method: init.method ?? 'GET', url: input, authorization: headers.get('authorization'), body: init.body ? JSON.parse(String(init.body)) : undefined });
      return app.request(input, init);
    }) as typeof fetch;
  });

  afterAll(() => {
    globalThis.fetch = saved.fetch;
    if (saved.host === undefined) delete process.env.__OW_API_HOST;
    else process.env.__OW_API_HOST = saved.host;
    if (saved.name === undefined) delete process.env.__OW_ACTION_NAME;
    else process.env.__OW_ACTION_NAME = saved.name;
  });

  function feed(name: string, lifecycleEvent: string, params: Record<string, unknown> = {}): Promise<any> {
    process.env.__OW_ACTION_NAME = `/whisk.system/alarms/${name}`;
    return feedAction.main({ lifecycleEvent, triggerName: '/guest/t', authKey: GUEST_KEY, ...params });
  }

  test('CREATE, READ, UPDATE, PAUSE, UNPAUSE and DELETE map onto the routes', async () => {
    const startDate = future(600_000);
    expect(await feed('interval', 'CREATE', { minutes: 2, startDate, trigger_payload: '{"name":"Odin"}' })).toEqual({ status: 'success' });
    expect(requests[0]).toEqual({
      method: 'PUT',
      url: 'http://127.0.0.1:3233/api/v1/namespaces/guest/alarms/t',
      authorization: `Basic ${Buffer.from(GUEST_KEY).toString('base64')}`,
      body: { feed: 'interval', minutes: 2, startDate, trigger_payload: '{"name":"Odin"}' },
    });

    const read = await feed('interval', 'READ');
    expect(read).toEqual({
      config: { name: 't', namespace: 'guest', payload: { name: 'Odin' }, minutes: 2, startDate: new Date(Date.parse(startDate)).toISOString() },
      status: expect.objectContaining({ active: true, dateChanged: expect.any(Number), nextFireISO: new Date(Date.parse(startDate)).toISOString() }),
    });

    expect(await feed('interval', 'UPDATE', { minutes: 3 })).toEqual({ status: 'success' });
    expect(requests.at(-1)).toMatchObject({ method: 'PUT', url: 'http://127.0.0.1:3233/api/v1/namespaces/guest/alarms/t?overwrite=true', body: { feed: 'interval', minutes: 3 } });
    expect(scheduler.alarms.get('guest/t')?.spec).toMatchObject({ minutes: 3 });

    expect(await feed('interval', 'PAUSE')).toEqual({ status: 'success' });
    expect(requests.at(-1)).toMatchObject({ method: 'POST', body: { status: 'paused' } });
    expect((await feed('interval', 'READ')).status.active).toBe(false);
    expect(await feed('interval', 'UNPAUSE')).toEqual({ status: 'success' });
    expect(scheduler.alarms.get('guest/t')?.status).toBe('active');

    expect(await feed('interval', 'DELETE')).toEqual({ status: 'success' });
    expect(requests.at(-1)).toMatchObject({ method: 'DELETE', body: undefined });
    expect(scheduler.alarms.size).toBe(0);
  });

  test('the feed comes from the action name; READ of a cron and a once alarm', async () => {
    expect(await feed('alarm', 'CREATE', { cron: '0 9 * * *', timezone: 'Europe/Paris' })).toEqual({ status: 'success' });
    expect((await feed('alarm', 'READ')).config).toEqual({ name: 't', namespace: 'guest', payload: {}, cron: '0 9 * * *', timezone: 'Europe/Paris', strict: false });
    await feed('alarm', 'DELETE');
    const date = future(3_600_000);
    await feed('once', 'CREATE', { date, deleteAfterFire: 'rules' });
    expect((await feed('once', 'READ')).config).toEqual({ name: 't', namespace: 'guest', payload: {}, date: new Date(Date.parse(date)).toISOString(), deleteAfterFire: 'rules' });
  });

  test('provider errors come back as {error}, so the activation fails', async () => {
    expect(await feed('once', 'CREATE', { date: '2001-01-01T00:00:00Z' })).toEqual({ error: "date parameter '2001-01-01T00:00:00Z' must be in the future" });
    expect(await feed('once', 'READ')).toEqual({ error: 'The requested resource does not exist.' });
    expect(await feed('once', 'DELETE')).toEqual({ error: 'The requested resource does not exist.' });
    process.env.__OW_ACTION_NAME = '/whisk.system/alarms/once';
    expect(await feedAction.main({ lifecycleEvent: 'CREATE', triggerName: '/other/t', authKey: GUEST_KEY, date: future(60_000) })).toEqual({
      error: 'The supplied authentication is not authorized to access this resource.',
    });
    expect(await feed('once', 'REFRESH')).toEqual({ error: 'unsupported lifecycleEvent' });
    expect(await feedAction.main({ lifecycleEvent: 'CREATE', authKey: GUEST_KEY })).toEqual({ error: 'no trigger name parameter was provided' });
    process.env.__OW_ACTION_NAME = '/guest/my-feed';
    expect((await feedAction.main({ lifecycleEvent: 'CREATE', triggerName: 't', authKey: GUEST_KEY })).error).toMatch(/cannot tell the alarm feed/);
    expect(scheduler.alarms.size).toBe(0);
  });

  test('an API host without a scheme gets https; an unreachable provider is an error', async () => {
    process.env.__OW_API_HOST = 'controller.example:443';
    globalThis.fetch = (async (input: string) => {
      requests.push({ method: 'GET', url: input, authorization: null, body: undefined });
      throw new Error('connect ECONNREFUSED');
    }) as typeof fetch;
    expect(await feed('once', 'READ')).toEqual({ error: 'the alarms provider could not be reached: connect ECONNREFUSED' });
    expect(requests[0].url).toBe('https://controller.example:443/api/v1/namespaces/guest/alarms/t');
  });
});
