'use strict';
// Skywhisk's nodejs action runtime: OpenWhisk's action protocol (POST /init once, POST /run per
// activation) over HTTP on port 8080, or on the unix socket named by __OW_LISTEN.
// It has no dependencies so the same file runs in a sandboxed process or in a container image.
const crypto = require('node:crypto');
const http = require('node:http');
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { execFileSync, spawn } = require('node:child_process');

const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

// Started from the image's /nodejsAction (where tools such as wskdebug look for app.js); actions
// run from the writable /tmp, since the root filesystem is read-only and not the action's.
// Modules the image installed beside app.js (OpenWhisk's way to add packages) stay requirable.
const START_DIR = process.cwd();
try {
  process.chdir(require('node:os').tmpdir());
} catch {
  // No usable temporary directory: stay where we started.
}
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The invoker's per-container secret: every request must carry it as `Authorization: Bearer
 * <token>`, so no other code that can reach this socket can initialise or run anything here. It
 * comes in a file (`__OW_RUNTIME_TOKEN_FILE`) that is removed once read, before any action code
 * loads, so the action finds it neither on disk nor in its environment; only its digest is kept.
 * Without one (a blackbox use of this image) requests are not checked.
 */
const digest = (text) => crypto.createHash('sha256').update(text, 'utf8').digest();
function readToken() {
  const file = process.env.__OW_RUNTIME_TOKEN_FILE;
  delete process.env.__OW_RUNTIME_TOKEN_FILE;
  if (!file) return undefined;
  const token = fs.readFileSync(file, 'utf8').trim();
  fs.rmSync(file);
  if (!token) throw new Error('the runtime token file is empty');
  return token;
}
const RUNTIME_TOKEN = readToken();
const EXPECTED_AUTHORIZATION = RUNTIME_TOKEN ? digest(`Bearer ${RUNTIME_TOKEN}`) : undefined;

/** Whether a request carries the token (compared in constant time, as digests of equal length). */
function authorized(req) {
  if (!EXPECTED_AUTHORIZATION) return true;
  const presented = req.headers.authorization;
  return typeof presented === 'string' && crypto.timingSafeEqual(digest(presented), EXPECTED_AUTHORIZATION);
}

let actionMain;
let initialized = false;

/**
 * Native mode (OpenWhisk's dockerskeleton, `wsk action create --native`): the action is an
 * executable, `exec` in its zip or the code itself (a script with its #! line), run once per
 * activation with the JSON arguments as its one argument and on its stdin; the last line it prints
 * is the result, and what it printed before is its log.
 */
const NATIVE = process.env.__OW_NATIVE === 'true';
delete process.env.__OW_NATIVE;
/** The most of an argument Linux passes on a command line (MAX_ARG_STRLEN); a larger one comes on stdin only. */
const MAX_ARGUMENT_BYTES = 131071;
let nativeExecutable;

function markEndOfActivation() {
  process.stdout.write(`${SENTINEL}\n`);
  process.stderr.write(`${SENTINEL}\n`);
}

function reply(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

/** Evaluates action source as a CommonJS module and finds its entry point. */
function loadAction(code, mainName) {
  const filename = path.join(process.cwd(), 'action.js');
  const mod = new Module(filename, module);
  mod.filename = filename;
  mod.paths = [...Module._nodeModulePaths(process.cwd()), ...Module._nodeModulePaths(START_DIR)];
  // The action may define `function main` at top level (OpenWhisk's classic form) or export it.
  const probe = /^[A-Za-z_$][\w$]*$/.test(mainName)
    ? `\n;module.exports.__skywhiskTopLevelMain = typeof ${mainName} === 'function' ? ${mainName} : undefined;`
    : '';
  mod._compile(code + probe, filename);
  const exported = mod.exports;
  const topLevel = exported.__skywhiskTopLevelMain;
  delete exported.__skywhiskTopLevelMain;
  if (typeof exported[mainName] === 'function') return exported[mainName];
  if (typeof topLevel === 'function') return topLevel;
  if (typeof exported === 'function' && mainName === 'main') return exported;
  throw new Error(`Action entrypoint '${mainName}' is not a function.`);
}

/**
 * A zipped action: unpacked (with `unzip`, as OpenWhisk's runtime does) into a directory, whose
 * package.json `main` (or index.js) is loaded as a module.
 */
function loadZippedAction(base64, mainName) {
  const dir = path.join(process.env.__OW_ACTION_DIR || require('node:os').tmpdir(), 'action');
  fs.mkdirSync(dir, { recursive: true });
  const archive = path.join(dir, '..', 'action.zip');
  fs.writeFileSync(archive, Buffer.from(base64, 'base64'));
  execFileSync('unzip', ['-qq', '-o', archive, '-d', dir]);
  fs.rmSync(archive);
  let entry = 'index.js';
  const manifest = path.join(dir, 'package.json');
  if (fs.existsSync(manifest)) entry = JSON.parse(fs.readFileSync(manifest, 'utf8')).main || entry;
  // As OpenWhisk's runtime does, a zipped action runs from its own directory, so it can read the
  // files it ships by relative paths.
  process.chdir(dir);
  const exported = require(path.resolve(dir, entry));
  if (typeof exported[mainName] === 'function') return exported[mainName];
  if (typeof exported === 'function' && mainName === 'main') return exported;
  throw new Error(`Action entrypoint '${mainName}' is not a function.`);
}

/** Puts the native action's executable in place: `exec` from its zip, or the code itself. */
function prepareNative(value) {
  const dir = path.join(process.env.__OW_ACTION_DIR || require('node:os').tmpdir(), 'action');
  fs.mkdirSync(dir, { recursive: true });
  const executable = path.join(dir, 'exec');
  if (value.binary) {
    const archive = path.join(dir, '..', 'action.zip');
    fs.writeFileSync(archive, Buffer.from(value.code, 'base64'));
    execFileSync('unzip', ['-qq', '-o', archive, '-d', dir]);
    fs.rmSync(archive);
    if (!fs.existsSync(executable)) throw new Error('the zip has no file named exec');
  } else {
    fs.writeFileSync(executable, value.code);
  }
  fs.chmodSync(executable, 0o755);
  process.chdir(dir);
  return executable;
}

/** Runs the native executable once: its last line of output is the result, as OpenWhisk's skeleton reads it. */
function runNative(args) {
  return new Promise((resolve) => {
    const input = JSON.stringify(args);
    const argv = Buffer.byteLength(input) > MAX_ARGUMENT_BYTES ? [] : [input];
    const child = spawn(nativeExecutable, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Both streams are logged once it ends, stdout first, as OpenWhisk's skeleton does.
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const notADictionary = { status: 502, body: { error: 'The action did not return a dictionary or array.' } };
    let settled = false;
    const settle = (answer) => {
      if (!settled) resolve(answer);
      settled = true;
    };
    child.on('error', (error) => {
      console.log(String(error));
      settle(notADictionary);
    });
    child.on('close', () => {
      const text = Buffer.concat(out).toString('utf8');
      const lastNewLine = text.lastIndexOf('\n', text.length - 2);
      const last = (lastNewLine < 0 ? text : text.slice(lastNewLine + 1)).trim();
      if (lastNewLine >= 0) process.stdout.write(text.slice(0, lastNewLine + 1));
      if (err.length) process.stderr.write(Buffer.concat(err));
      try {
        const result = JSON.parse(last);
        if (result !== null && typeof result === 'object') return settle({ status: 200, body: result });
      } catch {
        // not JSON: not a result
      }
      if (last) console.log(last);
      settle(notADictionary);
    });
  });
}

/**
 * A stem cell's first request (Skywhisk's, not OpenWhisk's): it takes the first-use costs of the
 * connection, reading a body, compiling a module and replying, so the action's /init does not.
 * It changes nothing: the runtime is still uninitialised afterwards.
 */
async function handleWarmUp(req, res) {
  await readJson(req);
  loadAction('function main(args) { return args; }', 'main')({});
  reply(res, 200, { ok: true });
}

async function handleInit(req, res) {
  if (initialized) {
    reply(res, 403, { error: 'Cannot initialize the action more than once.' });
    return;
  }
  const message = await readJson(req);
  const value = message.value || {};
  try {
    if (typeof value.code !== 'string') throw new Error('Missing main/no code to execute.');
    for (const [key, v] of Object.entries(value.env || {})) process.env[key] = typeof v === 'string' ? v : JSON.stringify(v);
    if (NATIVE) {
      try {
        nativeExecutable = prepareNative(value);
      } catch (error) {
        console.error(`Initialization has failed due to: ${error && error.message ? error.message : error}`);
        reply(res, 502, { error: 'The action failed to generate or locate a binary. See logs for details.' });
        markEndOfActivation();
        return;
      }
      initialized = true;
      reply(res, 200, { ok: true });
      return;
    }
    actionMain = value.binary ? loadZippedAction(value.code, value.main || 'main') : loadAction(value.code, value.main || 'main');
    initialized = true;
    reply(res, 200, { ok: true });
  } catch (error) {
    console.error(`Initialization has failed due to: ${error && error.stack ? error.stack : error}`);
    reply(res, 502, { error: `Initialization has failed due to: ${error && error.message ? error.message : error}` });
    markEndOfActivation();
  }
}

function isDictionary(value) {
  return value !== null && typeof value === 'object';
}

/** An Error as plain JSON (name, message, stack and its own fields), as OpenWhisk's runner sends it. */
function serializeError(error) {
  if (!(error instanceof Error)) return error;
  const plain = { name: error.name, message: error.message, stack: error.stack };
  for (const key of Object.keys(error)) plain[key] = error[key];
  return plain;
}

async function handleRun(req, res) {
  const message = await readJson(req);
  if (!initialized) {
    reply(res, 403, { error: 'System not ready, status is not initialized.' });
    markEndOfActivation();
    return;
  }
  for (const [key, v] of Object.entries(message)) {
    if (key !== 'value' && typeof v === 'string') process.env[`__OW_${key.toUpperCase()}`] = v;
  }
  if (NATIVE) {
    const { status, body } = await runNative(message.value || {});
    reply(res, status, body);
    markEndOfActivation();
    return;
  }
  let result;
  try {
    result = actionMain(message.value || {});
  } catch (error) {
    // A synchronous throw is a developer error in OpenWhisk's nodejs runtime.
    console.error(error);
    reply(res, 502, { error: `An error has occurred: ${error}` });
    markEndOfActivation();
    return;
  }
  try {
    result = await result;
    // `return;` (or no return at all) is an empty, successful result.
    if (result === undefined) result = {};
  } catch (error) {
    // A rejected promise is an application error: it is the action's own answer.
    result = { error: error ? serializeError(error) : {} };
  }
  if (isDictionary(result)) reply(res, 200, result);
  else reply(res, 502, { error: 'The action did not return a dictionary.' });
  markEndOfActivation();
}

const server = http.createServer((req, res) => {
  if (!authorized(req)) {
    // Refused before the body is read; the connection is not reused.
    res.setHeader('connection', 'close');
    reply(res, 403, { error: 'Forbidden: this runtime answers only its invoker.' });
    return;
  }
  // The invoker's own connection: kept for the container's life, however long a run takes.
  req.socket.setTimeout(0);
  const route = req.method === 'POST' ? req.url : undefined;
  const handler = route === '/init' ? handleInit : route === '/run' ? handleRun : route === '/warmup' ? handleWarmUp : undefined;
  if (!handler) {
    reply(res, 404, { error: 'Not found.' });
    return;
  }
  handler(req, res).catch((error) => {
    if (!res.headersSent) reply(res, 400, { error: `Bad request: ${error.message}` });
  });
});
// The invoker keeps one connection open for the container's life; anything else that connects
// must present the token within seconds, and one refused request closes the connection.
server.keepAliveTimeout = 0;
const UNAUTHENTICATED_IDLE_MS = 5000;
server.on('connection', (socket) => socket.setTimeout(UNAUTHENTICATED_IDLE_MS, () => socket.destroy()));

const listen = process.env.__OW_LISTEN || '8080';
if (/^\d+$/.test(listen)) server.listen(Number(listen), process.env.__OW_LISTEN_HOST || '0.0.0.0');
else server.listen(listen);
