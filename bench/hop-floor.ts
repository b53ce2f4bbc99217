import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cpuMs } from './process-cpu';

/**
 * The floor under the invoke path: the same HTTP hops with nothing on them. `wrk` calls a
 * "controller" that calls an "invoker", which calls one of 32 "runtimes" (on unix sockets, as the
 * Docker factory's are) and then a "store" with a record-sized body, and answers. Every process is
 * plain node:http with kept-alive connections. It prints throughput at 32 connections and CPU per
 * request of each role, to set the platform's figures in bench/throughput.ts against. Asserts nothing.
 *   node --import tsx bench/hop-floor.ts [--seconds 10]
 */

const run = promisify(execFile);
const SECONDS_AT = process.argv.indexOf('--seconds');
const SECONDS = SECONDS_AT < 0 ? 10 : Number(process.argv[SECONDS_AT + 1]);
const RUNTIMES = 32;

/** One role of the chain, as a script for `node -e`: listens on argv[1], calls what argv[2..] name. */
const HOP = String.raw`
const http = require('node:http');
const [role, listen, ...next] = process.argv.slice(1);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const free = role === 'invoker' ? next.slice(1) : [];
function call(target, body) {
  return new Promise((resolve, reject) => {
    const where = target.startsWith('/') ? { socketPath: target, path: '/run' } : { host: '127.0.0.1', port: Number(target), path: '/' };
    const req = http.request({ ...where, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function answer(body) {
  if (role === 'controller') return call(next[0], body);
  if (role !== 'invoker') return '{}';
  const runtime = free.pop();
  const result = await call(runtime, body);
  free.push(runtime);
  await call(next[0], JSON.stringify({ record: result, annotations: 'x'.repeat(400) }));
  return result;
}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const out = await answer(Buffer.concat(chunks).toString() || '{}');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
});
server.listen(/^\d+$/.test(listen) ? Number(listen) : listen, ...(/^\d+$/.test(listen) ? ['127.0.0.1'] : []), () => process.send && process.send('ready'));
`;

async function start(role: string, listen: string, next: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', HOP, role, listen, ...next], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => child.once('message', resolve));
  return child;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-hops-'));
  const children: ChildProcess[] = [];
  try {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const store = await start('store', String(base), []);
    const sockets = Array.from({ length: RUNTIMES }, (_, i) => join(dir, `runtime-${i}.sock`));
    const runtimes = await Promise.all(sockets.map((socket) => start('runtime', socket, [])));
    const invoker = await start('invoker', String(base + 1), [String(base), ...sockets]);
    const controller = await start('controller', String(base + 2), [String(base + 1)]);
    children.push(store, ...runtimes, invoker, controller);
    const script = join(dir, 'post.lua');
    writeFileSync(script, 'wrk.method = "POST"\nwrk.body = "{}"\nwrk.headers["Content-Type"] = "application/json"\n');
    const url = `http://127.0.0.1:${base + 2}/`;
    await run('wrk', ['-t', '2', '-c', '32', '-d', '4s', '-s', script, url]);
    const roles = { controller: [controller], invoker: [invoker], runtimes, store: [store] };
    const cpu = () => Object.fromEntries(Object.entries(roles).map(([role, list]) => [role, list.reduce((sum, child) => sum + cpuMs(child.pid), 0)]));
    const before = cpu();
    const { stdout } = await run('wrk', ['-t', '2', '-c', '32', '-d', `${SECONDS}s`, '-s', script, url]);
    const after = cpu();
    const requests = Number(/(\d+) requests in/.exec(stdout)![1]);
    console.log(`HTTP hops alone (wrk -> controller -> invoker -> 1 of ${RUNTIMES} runtimes, then a store call), node ${process.version}`);
    console.log(`32 connections: ${(requests / SECONDS).toFixed(0)} req/s`);
    console.log(`CPU ms per request: ${Object.keys(roles).map((role) => `${role} ${((after[role] - before[role]) / requests).toFixed(2)}`).join(', ')}`);
  } finally {
    children.forEach((child) => child.kill('SIGKILL'));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
