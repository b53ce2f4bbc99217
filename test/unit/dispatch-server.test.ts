import { request, type IncomingMessage } from 'node:http';
import { DirectDispatcher } from '../../lib/controller/direct-dispatch';
import { ACCEPTED_HEADER, DISPATCH_PATH, HOLDER_HEADER, startDispatchServer, type DirectRunner, type DispatchServer } from '../../lib/invoker/dispatch-server';
import type { DirectOutcome } from '../../lib/invoker/invoker';
import type { ActivationMessage, ActivationRecord } from '../../lib/model/activation';

// The invoker's dispatch server with a runner that the test finishes by hand: when the head of an
// accepted dispatch goes out (with its body, after a delay, or at once), as a controller sees it.

const SECRET = 'dispatch-secret';
const HOLDER = 'invoker0/one';
const HOUR_MS = 3_600_000;

const message: ActivationMessage = {
  activationId: '0123456789abcdef0123456789abcdef',
  namespace: 'guest',
  subject: 'guest',
  action: { namespace: 'guest', path: 'noop', revision: '1' },
  blocking: true,
  params: {},
  transactionId: 'tx',
  acceptedAt: 0,
};
const record = { activationId: message.activationId, response: { statusCode: 0, result: {} } } as unknown as ActivationRecord;

/** A runner that accepts each dispatch and ends it when the test calls `finish`. */
function runnerFinishedByHand() {
  let finish: () => void = () => undefined;
  let accepted: () => void = () => undefined;
  const acceptance = new Promise<void>((resolve) => (accepted = resolve));
  const runner: DirectRunner = {
    holder: HOLDER,
    running: () => [],
    runDirect: (_message, _sentAt, onAccepted) => {
      onAccepted();
      accepted();
      return new Promise<DirectOutcome>((resolve) => (finish = () => resolve({ outcome: 'done', stored: true, record } as DirectOutcome)));
    },
  };
  return { runner, acceptance, finish: () => finish() };
}

const servers: DispatchServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(runner: DirectRunner, acceptHeadDelayMs: number): Promise<string> {
  const server = await startDispatchServer({ secret: SECRET, host: '127.0.0.1', port: 0, acceptHeadDelayMs }, () => runner, () => undefined);
  servers.push(server);
  return `http://127.0.0.1:${server.port}`;
}

/** Posts a dispatch by hand: the head as it arrives, and the body once it is there. */
function post(url: string) {
  let head: IncomingMessage | undefined;
  const req = request(new URL(DISPATCH_PATH, url), { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' } });
  const body = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      head = res;
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  req.end(JSON.stringify(message));
  return { head: () => head, body, close: () => req.destroy() };
}

describe('the head of an accepted dispatch', () => {
  test('comes with the record when the activation ends before the delay', async () => {
    const { runner, acceptance, finish } = runnerFinishedByHand();
    const url = await serve(runner, HOUR_MS);
    const exchange = post(url);
    await acceptance;
    // Accepted and running: nothing has been answered yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exchange.head()).toBeUndefined();
    finish();
    expect(JSON.parse(await exchange.body)).toEqual({ record });
    expect(exchange.head()?.headers[ACCEPTED_HEADER]).toBe('true');
    expect(exchange.head()?.headers[HOLDER_HEADER]).toBe(HOLDER);
  });

  test('comes on its own once the delay is over, and the record after it', async () => {
    const { runner, finish } = runnerFinishedByHand();
    const url = await serve(runner, 10);
    const exchange = post(url);
    while (!exchange.head()) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(exchange.head()?.headers[ACCEPTED_HEADER]).toBe('true');
    finish();
    expect(JSON.parse(await exchange.body)).toEqual({ record });
  });

  test('comes at once for a controller that waits only for the acceptance (a non-blocking invoke)', async () => {
    const { runner, finish } = runnerFinishedByHand();
    const url = await serve(runner, HOUR_MS);
    // The registry's holder is an older process of that invoker: only its answer names the one that took it.
    const dispatcher = new DirectDispatcher({ live: async () => [{ id: 'invoker0', url, capacity: 4, holder: 'invoker0/older' }] }, SECRET, { warn: () => undefined });
    try {
      // Without an answer by the deadline the dispatcher would give up, taking it for the older holder's.
      await expect(dispatcher.dispatch('guest|guest/noop', JSON.stringify(message), Date.now() + 3000, { untilAccepted: true })).resolves.toEqual({ kind: 'taken', holder: HOLDER });
    } finally {
      finish();
      dispatcher.close();
    }
  });

  test('a blocking dispatch from a controller gets the record on the same answer', async () => {
    const { runner, acceptance, finish } = runnerFinishedByHand();
    const url = await serve(runner, HOUR_MS);
    const dispatcher = new DirectDispatcher({ live: async () => [{ id: 'invoker0', url, capacity: 4, holder: HOLDER }] }, SECRET, { warn: () => undefined });
    try {
      const result = dispatcher.dispatch('guest|guest/noop', JSON.stringify(message), Date.now() + HOUR_MS);
      await acceptance;
      finish();
      await expect(result).resolves.toEqual({ kind: 'record', record });
    } finally {
      dispatcher.close();
    }
  });
});
