import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DirectDispatcher, homeOrder, type DispatchTarget } from '../../lib/controller/direct-dispatch';
import { ACCEPTED_HEADER, HOLDER_HEADER } from '../../lib/invoker/dispatch-server';

// The controller's side of direct dispatch against invokers played by loopback HTTP servers: which
// invoker an action goes to, and what each answer (or its absence) means for the activation.

const SECRET = 's3cret';
const silent = { warn: () => undefined };
const servers: Server[] = [];
const cleanups: Array<() => void> = [];

afterAll(async () => {
  cleanups.forEach((cleanup) => cleanup());
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** An invoker whose answer `respond` writes; returns its target and what it was sent. */
async function invoker(id: string, respond: (req: IncomingMessage, res: ServerResponse, body: string) => void, capacity = 4) {
  const seen: Array<{ authorization?: string; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      respond(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const target: DispatchTarget = { id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, capacity, holder: `${id}/one` };
  return { target, seen };
}

const record = { activationId: 'a1', response: { statusCode: 0, result: { ok: true } } };
/** What an invoker sends the moment it accepts a dispatch, before it runs it. */
const ACCEPTED = { [ACCEPTED_HEADER]: 'true' };
const runsIt = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, ACCEPTED).flushHeaders();
  res.end(JSON.stringify({ record }));
};
const answers = (status: number) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(status).end('{}');

function dispatcherOver(targets: DispatchTarget[]): DirectDispatcher {
  return new DirectDispatcher({ live: async () => targets }, SECRET, silent);
}

/** The key among `candidates` whose home is `target` (rendezvous hashing decides; tests pick keys). */
function keyHomedOn(target: DispatchTarget, targets: DispatchTarget[]): string {
  for (let i = 0; ; i++) if (homeOrder(`ns|ns/action-${i}`, targets)[0].id === target.id) return `ns|ns/action-${i}`;
}

describe('home order', () => {
  const targets = Array.from({ length: 5 }, (_, i) => ({ id: `invoker-${i}`, url: `http://127.0.0.1:${1000 + i}`, capacity: 4, holder: `invoker-${i}/one` }));

  test('an action always has the same home, whatever order the registry lists invokers in', () => {
    const order = homeOrder('guest|guest/hello', targets).map((t) => t.id);
    expect(homeOrder('guest|guest/hello', [...targets].reverse()).map((t) => t.id)).toEqual(order);
    expect(new Set(order).size).toBe(5);
  });

  test('actions spread over the invokers', () => {
    const homes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const home = homeOrder(`guest|guest/action-${i}`, targets)[0].id;
      homes.set(home, (homes.get(home) ?? 0) + 1);
    }
    expect(homes.size).toBe(5);
    for (const count of homes.values()) expect(count).toBeGreaterThan(120);
  });

  test('an invoker leaving moves only the actions whose home it was', () => {
    const remaining = targets.filter((t) => t.id !== 'invoker-2');
    for (let i = 0; i < 500; i++) {
      const key = `guest|guest/action-${i}`;
      const before = homeOrder(key, targets);
      const after = homeOrder(key, remaining);
      expect(after[0].id).toBe(before[0].id === 'invoker-2' ? before[1].id : before[0].id);
    }
  });
});

describe('dispatch', () => {
  const deadline = () => Date.now() + 10_000;

  test('the home invoker runs it and its record comes back on the connection, with the secret', async () => {
    const home = await invoker('a', runsIt);
    const other = await invoker('b', runsIt);
    const targets = [home.target, other.target];
    const result = await dispatcherOver(targets).dispatch(keyHomedOn(home.target, targets), '{"activationId":"a1"}', deadline());
    expect(result).toEqual({ kind: 'record', record });
    expect(home.seen).toEqual([{ authorization: `Bearer ${SECRET}`, body: '{"activationId":"a1"}' }]);
    expect(other.seen).toEqual([]);
  });

  test('a full home invoker passes it to the next one', async () => {
    const home = await invoker('full', answers(503));
    const next = await invoker('next', runsIt);
    const targets = [home.target, next.target];
    expect(await dispatcherOver(targets).dispatch(keyHomedOn(home.target, targets), '{}', deadline())).toEqual({ kind: 'record', record });
    expect(home.seen).toHaveLength(1);
    expect(next.seen).toHaveLength(1);
  });

  test('an unreachable invoker is passed over, then left alone for a while', async () => {
    const gone = { id: 'gone', url: 'http://127.0.0.1:1', capacity: 4, holder: 'gone/one' };
    const next = await invoker('next2', runsIt);
    const targets = [gone, next.target];
    const dispatcher = dispatcherOver(targets);
    const key = keyHomedOn(gone, targets);
    expect(await dispatcher.dispatch(key, '{}', deadline())).toEqual({ kind: 'record', record });
    expect(await dispatcher.dispatch(key, '{}', deadline())).toEqual({ kind: 'record', record });
    expect(next.seen).toHaveLength(2);
  });

  test('every invoker full: surely not taken (it goes on the queue)', async () => {
    const a = await invoker('full-a', answers(503));
    const b = await invoker('full-b', answers(503));
    expect(await dispatcherOver([a.target, b.target]).dispatch('ns|ns/x', '{}', deadline())).toEqual({ kind: 'not-taken' });
  });

  test('running there already (409, a repeat): taken by that invoker, whose record comes from the store', async () => {
    const a = await invoker('taken', answers(409));
    expect(await dispatcherOver([a.target]).dispatch('ns|ns/x', '{}', deadline())).toEqual({ kind: 'taken', holder: 'taken/one' });
  });

  test('a wrong secret (401) is not taken, and no other invoker is asked', async () => {
    const a = await invoker('refuses', answers(401));
    const b = await invoker('other', runsIt);
    const targets = [a.target, b.target];
    expect(await dispatcherOver(targets).dispatch(keyHomedOn(a.target, targets), '{}', deadline())).toEqual({ kind: 'not-taken' });
    expect(b.seen).toEqual([]);
  });

  test('the connection breaks before the answer: taken, maybe, by that invoker (never the queue); after it: taken by the process it named', async () => {
    const before = await invoker('dies-before', (req) => req.socket.destroy());
    const other = await invoker('never-asked', runsIt);
    const targets = [before.target, other.target];
    expect(await dispatcherOver(targets).dispatch(keyHomedOn(before.target, targets), '{}', deadline())).toEqual({ kind: 'taken', holder: 'dies-before/one' });
    expect(other.seen).toEqual([]);
    const after = await invoker('dies-after', (req, res) => {
      res.writeHead(200, { ...ACCEPTED, [HOLDER_HEADER]: 'dies-after/two' }).flushHeaders();
      setTimeout(() => req.socket.destroy(), 20);
    });
    expect(await dispatcherOver([after.target]).dispatch('ns|ns/x', '{}', deadline())).toEqual({ kind: 'taken', holder: 'dies-after/two' });
  });

  test('the deadline passes before the answer: taken, maybe, by that invoker; or after it accepted', async () => {
    const silentInvoker = await invoker('silent', () => undefined);
    expect(await dispatcherOver([silentInvoker.target]).dispatch('ns|ns/x', '{}', Date.now() + 100)).toEqual({ kind: 'taken', holder: 'silent/one' });
    const slow = await invoker('slow', (_req, res) => res.writeHead(200, ACCEPTED).flushHeaders());
    expect(await dispatcherOver([slow.target]).dispatch('ns|ns/x', '{}', Date.now() + 200)).toEqual({ kind: 'taken', holder: 'slow/one' });
  });

  test('an invoker that does not answer within 2 s: this dispatch stays with it (it may run there), the next ones pass it over', async () => {
    const stalled = await invoker('stalled', () => undefined);
    const next = await invoker('after-stall', runsIt);
    const targets = [stalled.target, next.target];
    const dispatcher = dispatcherOver(targets);
    const key = keyHomedOn(stalled.target, targets);
    expect(await dispatcher.dispatch(key, '{}', Date.now() + 2500)).toEqual({ kind: 'taken', holder: 'stalled/one' });
    expect(next.seen).toEqual([]);
    expect(await dispatcher.dispatch(key, '{}', deadline())).toEqual({ kind: 'record', record });
    expect(stalled.seen).toHaveLength(1);
  });

  test('the deadline passes while the connection is still being made: nothing was sent, so surely not taken (the queue)', async () => {
    // A listener in a stopped process with its accept queue full: the kernel drops new SYNs, so a
    // connect stays pending.
    const child: ChildProcess = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port); })"]);
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    child.kill('SIGSTOP');
    const fillers: Socket[] = [];
    cleanups.push(() => {
      fillers.forEach((socket) => socket.destroy());
      child.kill('SIGKILL');
    });
    for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => undefined));
    await new Promise((r) => setTimeout(r, 200));
    const target: DispatchTarget = { id: 'unaccepting', url: `http://127.0.0.1:${port}`, capacity: 4, holder: 'unaccepting/one' };
    expect(await dispatcherOver([target]).dispatch('ns|ns/x', '{}', Date.now() + 300)).toEqual({ kind: 'not-taken' });
  });

  test('sent and not answered: the answer is waited for up to the deadline, never past it (the caller must answer in time)', async () => {
    const late = (status: number, headers: Record<string, string>, ms: number) => (_req: IncomingMessage, res: ServerResponse) =>
      setTimeout(() => (status === 200 ? res.writeHead(status, headers).flushHeaders() : res.writeHead(status, headers).end('{}')), ms);
    const full = await invoker('full-late', late(503, {}, 300));
    expect(await dispatcherOver([full.target]).dispatch('ns|ns/x', '{}', Date.now() + 2500)).toEqual({ kind: 'not-taken' });
    const tooLate = await invoker('accepts-too-late', late(200, { ...ACCEPTED, [HOLDER_HEADER]: 'accepts-too-late/two' }, 2800));
    const startedAt = Date.now();
    expect(await dispatcherOver([tooLate.target]).dispatch('ns|ns/x', '{}', startedAt + 2300)).toEqual({ kind: 'taken', holder: 'accepts-too-late/one' });
    expect(Date.now() - startedAt).toBeLessThan(2700);
  });

  test('every dispatch says when it was sent, so an invoker can tell one that waited through its stall', async () => {
    const before = Date.now();
    let sentAt = 0;
    const home = await invoker('stamps', (req, res) => {
      sentAt = Number(req.headers['x-skywhisk-sent-at']);
      runsIt(req, res);
    });
    await dispatcherOver([home.target]).dispatch('ns|ns/x', '{}', deadline());
    expect(sentAt).toBeGreaterThanOrEqual(before);
    expect(sentAt).toBeLessThanOrEqual(Date.now());
  });

  test('a non-blocking dispatch is taken the moment an invoker accepts it; its slot there stays counted until the run ends, and no room means the queue at once', async () => {
    let finish: () => void = () => undefined;
    const one = await invoker(
      'accepts-and-runs',
      (_req, res) => {
        res.writeHead(200, { ...ACCEPTED, [HOLDER_HEADER]: 'accepts-and-runs/two' }).flushHeaders();
        finish = () => res.end(JSON.stringify({ record }));
      },
      1,
    );
    const dispatcher = dispatcherOver([one.target]);
    expect(await dispatcher.dispatch('ns|ns/x', '{}', Date.now() + 1000, { untilAccepted: true })).toEqual({ kind: 'taken', holder: 'accepts-and-runs/two' });
    const startedAt = Date.now();
    expect(await dispatcher.dispatch('ns|ns/x', '{}', Date.now() + 1000, { untilAccepted: true })).toEqual({ kind: 'not-taken' });
    expect(Date.now() - startedAt).toBeLessThan(500);
    expect(one.seen).toHaveLength(1);
    finish();
    await new Promise((r) => setTimeout(r, 50));
    expect(await dispatcher.dispatch('ns|ns/x', '{}', Date.now() + 1000, { untilAccepted: true })).toEqual({ kind: 'taken', holder: 'accepts-and-runs/two' });
    finish();
  });

  test('an invoker URL this controller cannot use is passed over', async () => {
    const next = await invoker('after-bad-url', runsIt);
    const bad = { id: 'bad-url', url: 'not a url', capacity: 4, holder: 'bad-url/one' };
    const targets = [bad, next.target];
    expect(await dispatcherOver(targets).dispatch(keyHomedOn(bad, targets), '{}', deadline())).toEqual({ kind: 'record', record });
  });

  test('every invoker busy with this controller’s dispatches: it waits for one to finish, not the queue', async () => {
    let release: () => void = () => undefined;
    const only = await invoker(
      'only',
      (_req, res) => {
        res.writeHead(200, ACCEPTED).flushHeaders();
        if (only.seen.length === 1) release = () => res.end(JSON.stringify({ record }));
        else res.end(JSON.stringify({ record }));
      },
      1,
    );
    const dispatcher = dispatcherOver([only.target]);
    const first = dispatcher.dispatch('ns|ns/x', '{}', deadline());
    while (only.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = dispatcher.dispatch('ns|ns/x', '{}', deadline());
    await new Promise((r) => setTimeout(r, 50));
    expect(only.seen).toHaveLength(1);
    release();
    expect(await first).toEqual({ kind: 'record', record });
    expect(await second).toEqual({ kind: 'record', record });
    expect(only.seen).toHaveLength(2);
  });

  test('one still busy past the overflow wait: surely not taken (the queue)', async () => {
    const stuck = await invoker('stuck', (_req, res) => res.writeHead(200, ACCEPTED).flushHeaders(), 1);
    const dispatcher = dispatcherOver([stuck.target]);
    const first = dispatcher.dispatch('ns|ns/x', '{}', Date.now() + 3000);
    while (stuck.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await dispatcher.dispatch('ns|ns/x', '{}', Date.now() + 10_000)).toEqual({ kind: 'not-taken' });
    expect(stuck.seen).toHaveLength(1);
    expect(await first).toEqual({ kind: 'taken', holder: 'stuck/one' });
  });

  test('recorded by another process first: taken (the record is read from the store)', async () => {
    const a = await invoker('lost-race', (_req, res) => {
      res.writeHead(200, ACCEPTED).flushHeaders();
      res.end(JSON.stringify({ stored: false }));
    });
    expect(await dispatcherOver([a.target]).dispatch('ns|ns/x', '{}', deadline())).toEqual({ kind: 'taken', holder: 'lost-race/one' });
  });

  test('an invoker this controller already fills is skipped without asking', async () => {
    let release: () => void = () => undefined;
    const busy = await invoker(
      'busy',
      (_req, res) => {
        res.writeHead(200, ACCEPTED).flushHeaders();
        release = () => res.end(JSON.stringify({ record }));
      },
      1,
    );
    const next = await invoker('spare', runsIt);
    const targets = [busy.target, next.target];
    const dispatcher = dispatcherOver(targets);
    const key = keyHomedOn(busy.target, targets);
    const first = dispatcher.dispatch(key, '{}', deadline());
    while (busy.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await dispatcher.dispatch(key, '{}', deadline())).toEqual({ kind: 'record', record });
    expect(busy.seen).toHaveLength(1);
    release();
    expect(await first).toEqual({ kind: 'record', record });
  });
});
