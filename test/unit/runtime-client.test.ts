import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContainer, RuntimeResponse } from '../../lib/invoker/container';
import { ResponseTooLargeError } from '../../lib/invoker/container';
import { execute } from '../../lib/invoker/execute';
import { MAX_RUNTIME_RESPONSE_BYTES, RuntimeClient } from '../../lib/invoker/runtime-client';

// A runtime is the action's code: whatever it answers on /run must end in a record, never in the
// invoker holding the answer in memory (a 600 MB answer used to end the invoker for every tenant).

const MIB = 1024 * 1024;
let dir: string;
let server: Server;
let socketPath: string;
/** Bytes the fake runtime wrote for its last answer before the invoker hung up. */
let written = 0;
let answerBytes = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skywhisk-runtime-client-'));
  socketPath = join(dir, 'runtime.sock');
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const target = answerBytes;
      let sent = 0;
      res.writeHead(200, { 'content-type': 'application/json' });
      // Streams `target` bytes of a JSON string without holding them, as a hostile runtime would.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.write('{"data":"');
      const pump = () => {
        while (sent < target && !res.destroyed) {
          sent += chunk.length;
          written = sent;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}');
      };
      pump();
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

test('an answer of 600 MB is cut off just past the cap, not read whole', async () => {
  answerBytes = 600 * MIB;
  const client = new RuntimeClient({ socketPath });
  await expect(client.post('/run', {}, 60_000)).rejects.toBeInstanceOf(ResponseTooLargeError);
  client.close();
  // The runtime could write only what fits in the socket buffers after the invoker stopped reading.
  expect(written).toBeLessThan(MAX_RUNTIME_RESPONSE_BYTES + 16 * MIB);
});

test('an answer a little over the result limit is still read, so it can be reported as too long', async () => {
  answerBytes = MIB; // plus its JSON envelope: just over the 1 MiB result limit
  const client = new RuntimeClient({ socketPath });
  const response = await client.post('/run', {}, 60_000);
  client.close();
  expect(response.statusCode).toBe(200);
  expect(Buffer.byteLength(response.text)).toBeGreaterThan(MIB);
});

test('an oversized answer ends the activation in a developer error and the container is not kept', async () => {
  const container: ActionContainer = {
    id: 'hostile',
    init: () => Promise.resolve({ statusCode: 200, body: { ok: true }, text: '{"ok":true}' } as RuntimeResponse),
    run: () => Promise.reject(new ResponseTooLargeError(MAX_RUNTIME_RESPONSE_BYTES)),
    collectLogs: () => Promise.resolve({ lines: [], truncated: false }),
    destroy: () => Promise.resolve(),
  };
  const execution = await execute(container, false, () => ({}), {}, 1000);
  expect(execution.keepContainer).toBe(false);
  expect(execution.response.status).toBe('action developer error');
  expect(execution.response.result).toEqual({
    error: `The action produced a response that exceeded the allowed length: more than ${MAX_RUNTIME_RESPONSE_BYTES} bytes.`,
  });
});

describe('a runtime that is still starting', () => {
  const listenLater = (path: string, afterMs: number): Promise<Server> =>
    new Promise((resolve) => {
      setTimeout(() => {
        const late = createServer((req, res) => {
          req.resume();
          req.on('end', () => res.end('{"ok":true}'));
        });
        late.listen(path, () => resolve(late));
      }, afterMs);
    });

  test.each([
    ['its socket appears in a directory being watched', true],
    ['its directory itself appears later (nothing to watch at first)', false],
  ])('is reached by /init once it listens: %s', async (_name, dirExists) => {
    const base = mkdtempSync(join(tmpdir(), 'skywhisk-late-runtime-'));
    const channel = join(base, 'channel');
    if (dirExists) mkdirSync(channel);
    const path = join(channel, 'runtime.sock');
    const client = new RuntimeClient({ socketPath: path });
    const starting = (async () => {
      if (!dirExists) await new Promise((r) => setTimeout(r, 30)).then(() => mkdirSync(channel));
      return listenLater(path, 30);
    })();
    const answer = await client.post('/init', { value: {} }, 5000, true);
    expect(answer).toMatchObject({ statusCode: 200, body: { ok: true } });
    client.close();
    await new Promise((r) => (void starting.then((s) => s.close(r))));
    rmSync(base, { recursive: true, force: true });
  });
});
