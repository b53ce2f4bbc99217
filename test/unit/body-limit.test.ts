import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cappedBody } from '../../lib/controller/body-limit';
import { WhiskError } from '../../lib/model/errors';

// Bodies over the cap are a 413 however they arrive: with a declared length, chunked, or (on
// Lambda) through no Node parser at all; bodies under it reach the handler whole.

const CAP = 1000;
const app = new Hono();
app.use('*', cappedBody(CAP));
app.all('/echo', async (c) => c.text(`${c.req.method} ${(await c.req.text()).length}`));
app.onError((error, c) => c.json({ error: error.message }, error instanceof WhiskError ? error.status : 500));

let server: ServerType;
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      port = info.port;
      resolve();
    });
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `body` in `chunks` pieces: chunked when more than one, with a declared length when one. */
function send(method: string, body: string, chunks: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = chunks === 1 ? { 'content-length': Buffer.byteLength(body) } : { 'transfer-encoding': 'chunked' };
    const req = request({ host: '127.0.0.1', port, path: '/echo', method, headers: chunks === 0 ? {} : headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    const size = Math.ceil(body.length / Math.max(chunks, 1));
    for (let i = 0; i < body.length; i += size) req.write(body.slice(i, i + size));
    req.end();
  });
}

test.each([
  ['a GET with no body', 'GET', '', 0, 200, 'GET 0'],
  ['a declared body under the cap', 'POST', 'x'.repeat(CAP), 1, 200, `POST ${CAP}`],
  ['a declared body over the cap', 'POST', 'x'.repeat(CAP + 1), 1, 413, undefined],
  ['a chunked body under the cap', 'PUT', 'x'.repeat(CAP - 10), 5, 200, `PUT ${CAP - 10}`],
  ['a chunked body over the cap', 'PUT', 'x'.repeat(CAP * 3), 6, 413, undefined],
] as const)('%s over Node HTTP', async (_title, method, body, chunks, status, text) => {
  const answer = await send(method, body, chunks);
  expect(answer.status).toBe(status);
  if (text !== undefined) expect(answer.text).toBe(text);
});

test('a body that came through no Node parser (Lambda) is counted', async () => {
  const over = await app.request('/echo', { method: 'POST', body: new Blob(['x'.repeat(CAP + 1)]).stream(), duplex: 'half' } as RequestInit);
  expect(over.status).toBe(413);
  const under = await app.request('/echo', { method: 'POST', body: new Blob(['x'.repeat(CAP)]).stream(), duplex: 'half' } as RequestInit);
  expect(await under.text()).toBe(`POST ${CAP}`);
});
