import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { directRunsOfLiveInvokers } from '../../lib/invoker/direct-runs';
import type { InvokerHealth } from '../../lib/store/invoker-registry';

// What the slot reconciler learns is in flight from direct dispatches: this invoker's own runs and
// those of every other live invoker, asked over loopback HTTP. "Unknown" stops it correcting counts.

const SECRET = 'reconcile-secret';
const servers: Server[] = [];
/** A loopback port nothing listens on: a killed invoker's dispatch URL. */
let closedPort = 0;

beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  for (const server of servers) await new Promise((r) => server.close(r));
});

/** Another invoker's dispatch server, listing `running` to whoever shows the secret. */
async function liveInvoker(running: Array<{ namespace: string; activationId: string }>): Promise<{ url: string; asked: Array<string | undefined> }> {
  const asked: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    asked.push(req.headers.authorization);
    const ok = req.headers.authorization === `Bearer ${SECRET}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { running } : { error: 'no' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, asked };
}

function registered(id: string, instance: string, dispatchUrl: string | undefined, status: InvokerHealth['status'] = 'up'): InvokerHealth {
  return { id, instance, startedAt: 1, state: 'up', inFlight: 0, factory: 'process', heartbeatAt: 1, status, ...(dispatchUrl ? { dispatchUrl } : {}) } as InvokerHealth;
}

const own = { namespace: 'guest', activationId: 'a'.repeat(32) };
const self = { holder: 'invoker0/second', running: () => [own] };

test('this invoker’s own runs and a live one’s, asked with the secret', async () => {
  const other = await liveInvoker([{ namespace: 'guest', activationId: 'b'.repeat(32) }]);
  const registry = { holdingLease: async () => [registered('invoker0', 'second', 'http://127.0.0.1:1'), registered('invoker1', 'one', other.url)] };
  const runs = await directRunsOfLiveInvokers(registry, SECRET, self);
  expect(runs?.map((run) => run.activationId)).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
  expect(other.asked).toEqual([`Bearer ${SECRET}`]);
});

test('a killed earlier process of this invoker’s id, still within its lease, is not waited for: the runs are known', async () => {
  const registry = {
    holdingLease: async () => [registered('invoker0', 'first', `http://127.0.0.1:${closedPort}`), registered('invoker0', 'second', 'http://127.0.0.1:1')],
  };
  expect(await directRunsOfLiveInvokers(registry, SECRET, self)).toEqual([own]);
});

test('another invoker that cannot be reached: unknown', async () => {
  const registry = { holdingLease: async () => [registered('invoker1', 'one', `http://127.0.0.1:${closedPort}`)] };
  expect(await directRunsOfLiveInvokers(registry, SECRET, self)).toBeUndefined();
});

test('another invoker silent within its lease (offline): unknown, and it is not sent the secret', async () => {
  const other = await liveInvoker([]);
  const registry = { holdingLease: async () => [registered('invoker1', 'one', other.url, 'offline')] };
  expect(await directRunsOfLiveInvokers(registry, SECRET, self)).toBeUndefined();
  expect(other.asked).toEqual([]);
});

test('another invoker that refuses the secret: unknown', async () => {
  const other = await liveInvoker([]);
  const registry = { holdingLease: async () => [registered('invoker1', 'one', other.url)] };
  expect(await directRunsOfLiveInvokers(registry, 'wrong', self)).toBeUndefined();
});
