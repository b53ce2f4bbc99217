import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OPENWHISK_GUEST_AUTH } from '../../lib/local/platform';
import { basicAuthHeader } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// `npm start`'s process SIGKILLed while an activation is stuck in its action: no process of that
// platform (endpoint, controller, invoker, the action's own) is left running a minute later.

jest.setTimeout(180_000);

const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-orphans-'));
const channel = new SideChannel();
let supervisor: ChildProcess | undefined;

beforeAll(() => channel.start());

afterAll(async () => {
  supervisor?.kill('SIGKILL');
  await channel.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every live descendant of `root`, from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => (children.get(pid) ?? []).forEach((child) => (found.push(child), visit(child)));
  visit(root);
  return found;
}

function alive(pid: number): boolean {
  try {
    // A zombie has exited; only its parent (init, here) has yet to reap it.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('SIGKILL of the supervisor with an activation stuck: no platform process is left a minute later', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(__dirname, '../../lib/local/start.ts')], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: '',
      SKYWHISK_DATA_DIR: dataDir,
      SKYWHISK_PORT: '0',
      SKYWHISK_CONTAINER_FACTORY: 'process',
      SKYWHISK_STEM_CELLS: '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  supervisor = proc;
  let output = '';
  const apiHost = await new Promise<string>((resolveHost, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API host:\s+(\S+)/.exec(output);
      if (match) resolveHost(match[1]);
    });
    proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.once('exit', () => reject(new Error(`npm start exited: ${output}`)));
  });
  const headers = { authorization: basicAuthHeader(OPENWHISK_GUEST_AUTH), 'content-type': 'application/json' };
  const created = await fetch(`${apiHost}/api/v1/namespaces/_/actions/stuck`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      exec: { kind: 'nodejs:20', code: `async function main() { await fetch('http://127.0.0.1:${channel.port}/hit'); await new Promise(() => setInterval(() => {}, 1000)); }` },
      limits: { timeout: 300000 },
    }),
  });
  expect(created.status).toBe(200);
  const invoked = await fetch(`${apiHost}/api/v1/namespaces/_/actions/stuck`, { method: 'POST', headers, body: '{}' });
  expect(invoked.status).toBe(202);
  for (let i = 0; i < 400 && channel.hits.size === 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(channel.hits.size).toBe(1);

  const platformProcesses = descendants(proc.pid!);
  // The endpoint, the controller, the invoker and the action's process (and its sandbox) at least.
  expect(platformProcesses.length).toBeGreaterThanOrEqual(4);
  proc.kill('SIGKILL');
  const deadline = Date.now() + 60_000;
  while (platformProcesses.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  expect(platformProcesses.filter(alive)).toEqual([]);
});
