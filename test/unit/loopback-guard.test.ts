import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GUARD = resolve(__dirname, '../helpers/loopback-only.cjs');

/**
 * Runs `attempt` in a Node process with the end-to-end tests' guard preloaded. The real network
 * calls are replaced first by stubs that only note they were reached, so a broken guard shows as
 * "reached" without a packet leaving this machine.
 */
async function guarded(attempt: string): Promise<{ reached: string[]; blocked: string[] }> {
  const log = join(mkdtempSync(join(tmpdir(), 'loopback-guard-')), 'blocked.log');
  const script = `
    const reached = [];
    const net = require('node:net'), dns = require('node:dns'), dgram = require('node:dgram');
    let connectedWith;
    net.Socket.prototype.connect = function (...args) { reached.push('connect'); connectedWith = args; return this; };
    dns.lookup = (name, options, callback) => { reached.push('lookup'); (callback ?? options)(null, '127.0.0.1', 4); };
    dns.lookupService = (address, port, callback) => { reached.push('lookupService'); callback(null, 'localhost', 'http'); };
    dns.resolve4 = (name, callback) => { reached.push('resolve4'); callback(null, []); };
    dgram.Socket.prototype.send = function () { reached.push('send'); };
    dgram.Socket.prototype.connect = function () { reached.push('udpConnect'); };
    require(${JSON.stringify(GUARD)});
    const settle = [];
    const wait = (f) => settle.push(new Promise((done) => { try { f(done); } catch (error) { done(); } setTimeout(done, 50); }));
    ${attempt}
    Promise.all(settle).then(() => console.log(JSON.stringify(reached)));
  `;
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, SKYWHISK_BLOCKED_CONNECTIONS_LOG: log } });
  let blocked: string[] = [];
  try {
    blocked = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } catch {
    // nothing refused
  }
  return { reached: JSON.parse(stdout) as string[], blocked };
}

describe("the end-to-end tests' loopback-only guard, which catches a client phoning home", () => {
  test.each([
    ['a TCP connection to a public address', `wait((done) => new net.Socket().on('error', done).connect(443, '192.0.2.10'))`, 'connect', '192.0.2.10:443'],
    [
      'a TCP socket whose own lookup maps localhost elsewhere',
      `wait((done) => { new net.Socket().connect({ port: 443, host: 'localhost', lookup: (n, o, cb) => cb(null, '192.0.2.10', 4) }); connectedWith[0].lookup('localhost', {}, (error) => done(error)); })`,
      '(no stub: the own lookup runs and its answer is refused)',
      'localhost resolved to 192.0.2.10:443',
    ],
    ['a name lookup', `wait((done) => dns.lookup('telemetry.example', done))`, 'lookup', 'lookup telemetry.example'],
    ['a DNS query through c-ares', `wait((done) => dns.resolve4('telemetry.example', done))`, 'resolve4', 'dns resolve4 telemetry.example'],
    ['a reverse lookup', `wait((done) => dns.lookupService('192.0.2.10', 443, done))`, 'lookupService', 'lookupService 192.0.2.10'],
    ['a UDP datagram', `wait((done) => dgram.createSocket('udp4').send('x', 53, '192.0.2.10', done))`, 'send', 'udp 192.0.2.10:53'],
    ['a UDP datagram with offset and length', `wait((done) => dgram.createSocket('udp4').send(Buffer.from('xy'), 0, 1, 53, '192.0.2.10', done))`, 'send', 'udp 192.0.2.10:53'],
    [
      'a UDP socket whose own lookup maps localhost elsewhere',
      `wait((done) => { const socket = dgram.createSocket({ type: 'udp4', lookup: (n, o, cb) => cb(null, '192.0.2.10', 4) }); socket.on('error', done); socket._handle.lookup('localhost', (error) => done(error)); })`,
      '(no stub: the own lookup runs and its answer is refused)',
      'udp localhost resolved to 192.0.2.10',
    ],
    ['a connected UDP socket', `wait((done) => dgram.createSocket('udp4').connect(53, '192.0.2.10', done))`, 'udpConnect', 'udp 192.0.2.10:53'],
  ])('refuses and records %s', async (_what, attempt, call, destination) => {
    const { reached, blocked } = await guarded(attempt);
    expect(reached).not.toContain(call);
    expect(blocked.map((line) => line.replace(/^\d+ /, ''))).toContain(destination);
  });

  test.each([
    ['a TCP connection to 127.0.0.1', `wait((done) => { new net.Socket().connect(3233, '127.0.0.1'); done(); })`, 'connect'],
    ['a lookup of localhost', `wait((done) => dns.lookup('localhost', done))`, 'lookup'],
    ['a UDP datagram to ::1', `wait((done) => dgram.createSocket('udp6').send('x', 53, '::1', done))`, 'send'],
  ])('lets %s through unrecorded', async (_what, attempt, call) => {
    const { reached, blocked } = await guarded(attempt);
    expect(reached).toContain(call);
    expect(blocked).toEqual([]);
  });
});
