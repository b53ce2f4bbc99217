import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createAwsClients } from '../lib/aws-clients';
import { configFromEnv } from '../lib/config';
import { createContainerFactory } from '../lib/invoker/factory';
import { CALL_COUNTS_FILE } from '../lib/local/endpoint';
import type { RunningPlatform } from '../lib/local/platform';
import { InvocationQueue } from '../lib/bus/invocation-queue';
import { ActivationsRepository } from '../lib/store/activations';
import { startBenchPlatform } from './platform';
import { cpuMs } from './process-cpu';
import { formatRow, HEADER, summarize } from './stats';

/**
 * Throughput and cost of the invoke path, measured from outside: `wrk` (another process) drives the
 * OpenWhisk REST API of an embedded platform; each platform process's CPU comes from /proc, and the
 * store and queue calls per activation from the endpoint's counts. Prints figures; asserts nothing.
 *   node --import tsx bench/throughput.ts [--factory docker|process] [--seconds 15]
 */

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
}

const FACTORY = option('factory', 'docker');
const SECONDS = Number(option('seconds', '15'));
const SEQUENTIAL_CALLS = Number(option('calls', '1000'));
/**
 * Calls left out before a sequential series is measured. The bench's own client warms up too:
 * measured on one platform, its first 500 calls took about 1.4 ms longer each than later ones.
 */
const WARM_UP_CALLS = 500;
const NOOP = 'function main() { return {}; }';
const run = promisify(execFile);

type ProcessName = 'endpoint' | 'controller' | 'invoker';
const NAMES: ProcessName[] = ['endpoint', 'controller', 'invoker'];
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}

/** Docker's own processes; what containerd's shims start are the action containers. */
const DOCKER_DAEMONS = new Set(['dockerd', 'containerd']);
const CONTAINER_SHIM = /^containerd-shim/;

/**
 * CPU (ms) used so far by Docker's daemons, the shims and every process in the action containers
 * (the shims' descendants), all read from /proc. A process that ends in between takes its share away.
 */
function dockerSideCpuMs(): number {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      names.set(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const counted = (pid: number): boolean => {
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = parents.get(at)) {
      const name = names.get(at) ?? '';
      if (CONTAINER_SHIM.test(name) || (at === pid && DOCKER_DAEMONS.has(name))) return true;
    }
    return false;
  };
  let total = 0;
  for (const pid of names.keys()) if (counted(pid)) total += cpuMs(pid);
  return total;
}

/** What one scenario cost the platform: CPU per process and endpoint calls by operation. */
class CostMeter {
  private cpu: Record<ProcessName, number> = { endpoint: 0, controller: 0, invoker: 0 };
  private dockerSide = 0;
  private calls: Record<string, number> = {};

  constructor(
    private readonly platform: RunningPlatform,
    private readonly endpointDir: string,
  ) {}

  async begin(): Promise<void> {
    for (const name of NAMES) this.cpu[name] = cpuMs(this.platform.processes[name]?.child.pid);
    this.dockerSide = FACTORY === 'docker' ? dockerSideCpuMs() : 0;
    this.calls = await this.callCounts();
  }

  /** `ownCalls`: the bench's own calls in the window (its queue polls), left out of the figures. */
  async end(label: string, activations: number, ownCalls: Record<string, number> = {}): Promise<void> {
    const cpu = NAMES.map((name) => `${name} ${((cpuMs(this.platform.processes[name]?.child.pid) - this.cpu[name]) / activations).toFixed(2)}`);
    if (FACTORY === 'docker') cpu.push(`action containers and Docker ${((dockerSideCpuMs() - this.dockerSide) / activations).toFixed(2)}`);
    const now = await this.callCounts();
    const perActivation = Object.entries(now)
      .map(([operation, count]) => [operation, (count - (this.calls[operation] ?? 0) - (ownCalls[operation] ?? 0)) / activations] as const)
      .filter(([, count]) => count > 0.005)
      .sort((a, b) => b[1] - a[1]);
    const total = perActivation.reduce((sum, [, count]) => sum + count, 0);
    console.log(`${label} (${activations} activations)`);
    console.log(`  CPU ms per activation: ${cpu.join(', ')}`);
    console.log(`  store and queue calls per activation: ${total.toFixed(2)} (${perActivation.map(([op, n]) => `${op} ${n.toFixed(2)}`).join(', ')})`);
  }

  private async callCounts(): Promise<Record<string, number>> {
    const pid = this.platform.processes.endpoint?.child.pid;
    if (pid === undefined) return {};
    const file = join(this.endpointDir, CALL_COUNTS_FILE);
    rmSync(file, { force: true });
    process.kill(pid, 'SIGUSR2');
    for (let i = 0; i < 100; i++) {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    throw new Error('the endpoint wrote no call counts');
  }
}

/** A wrk script posting `{}`, which writes each response's activation id to `<dir>/ids-<thread>.txt`. */
function wrkScript(dir: string, auth: string): string {
  const file = join(dir, 'invoke.lua');
  writeFileSync(
    file,
    `
local counter = 0
local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  ids = io.open("${dir}/ids-" .. id .. ".txt", "w")
  wrong = 0
end
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic ${Buffer.from(auth).toString('base64')}"
function response(status, headers, body)
  local activation = headers["x-openwhisk-activation-id"] or string.match(body, '"activationId":"(%x+)"')
  if activation then ids:write(activation, "\\n") end
  if status ~= 200 and status ~= 202 then wrong = wrong + 1 end
  if status == 202 and headers["x-openwhisk-activation-id"] and string.find(wrk.path, "blocking=true") then wrong = wrong + 1 end
end
function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("wrong") end
  io.write(string.format("WRK %d %.2f %.3f %.3f %.3f %d %d\\n", summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, failed + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
`,
  );
  return file;
}

interface WrkResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  ids: string[];
}

async function wrk(url: string, connections: number, seconds: number, auth: string): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-wrk-'));
  const script = wrkScript(dir, auth);
  const threads = Math.min(connections, 2);
  const { stdout } = await run('wrk', ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '30s', '-s', script, url], {
    maxBuffer: 1 << 24,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('WRK '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const [requests, perSecond, p50, p99, max, errors, statusErrors] = line.split(' ').slice(1).map(Number);
  const ids = readdirSync(dir)
    .filter((f) => f.startsWith('ids-'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean));
  rmSync(dir, { recursive: true, force: true });
  return { requests, perSecond, p50, p99, max, errors: errors + statusErrors, ids };
}

function printWrk(label: string, result: WrkResult, unit = 'act/s'): void {
  console.log(
    `${label.padEnd(44)}${result.perSecond.toFixed(0).padStart(7)} ${unit}  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms  max ${result.max.toFixed(1)} ms  errors ${result.errors}`,
  );
}

/**
 * Waits until the invoke queue and its dead-letter queue hold nothing (every queued activation
 * recorded and its message deleted), asking SQS every 250 ms; returns how many calls that took,
 * so the meter can leave them out, and whether it drained before the deadline. Reading each
 * record instead would put the bench's own reads in the figures.
 */
async function drainQueue(queues: InvocationQueue[], deadlineMs: number): Promise<{ polls: number; drained: boolean }> {
  const started = Date.now();
  let polls = 0;
  while (Date.now() - started < deadlineMs) {
    polls += queues.length;
    if ((await Promise.all(queues.map((q) => q.isEmpty()))).every(Boolean)) return { polls, drained: true };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { polls, drained: false };
}

/** Waits until every id has its record; returns how many never got one within the deadline. */
async function reconcile(activations: ActivationsRepository, namespace: string, ids: string[], deadlineMs: number): Promise<{ missing: number; drainedMs: number }> {
  const started = Date.now();
  let pending = [...new Set(ids)];
  while (pending.length && Date.now() - started < deadlineMs) {
    const still: string[] = [];
    for (let i = 0; i < pending.length; i += 64) {
      const batch = pending.slice(i, i + 64);
      const found = await Promise.all(batch.map((id) => activations.get(namespace, id)));
      batch.forEach((id, j) => !found[j] && still.push(id));
    }
    pending = still;
    if (pending.length) await new Promise((r) => setTimeout(r, 500));
  }
  return { missing: pending.length, drainedMs: Date.now() - started };
}

/**
 * POSTs `{}` over one kept-alive connection with node:http, the client the floor's runtime calls
 * use, so the two series differ by the platform and not by their clients; answers the status.
 */
function keptAliveInvoker(url: string, headers: Record<string, string>): () => Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return () =>
    new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': '2' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end('{}');
    });
}

async function directRunFloor(): Promise<number[]> {
  const factory = await createContainerFactory({ ...process.env, SKYWHISK_CONTAINER_FACTORY: FACTORY }, 'bench-floor');
  const container = await factory.create({ kind: 'nodejs:22', memoryMb: 256, env: {}, name: 'bench-floor' });
  try {
    await container.init({ value: { name: 'noop', main: 'main', code: NOOP, binary: false, env: {} } }, 10_000);
    const samples: number[] = [];
    for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP_CALLS; i++) {
      const t = performance.now();
      await container.run({ value: {}, activation_id: 'x' }, 10_000);
      await container.collectLogs(1024, 1000);
      if (i >= WARM_UP_CALLS) samples.push(performance.now() - t);
    }
    return samples;
  } finally {
    await container.destroy();
    factory.dispose();
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // One invoker with room for every connection: 32 activations at once, 32 containers of 256 MB.
  const concurrency = process.env.SKYWHISK_INVOKER_CONCURRENCY ?? '32';
  const memoryMb = process.env.SKYWHISK_MEMORY_BUDGET_MB ?? '8192';
  const { platform, dataDir, dispose } = await startBenchPlatform({ SKYWHISK_CONTAINER_FACTORY: FACTORY, SKYWHISK_INVOKER_CONCURRENCY: concurrency, SKYWHISK_MEMORY_BUDGET_MB: memoryMb });
  const endpointDir = join(dataDir, 'endpoint');
  const meter = new CostMeter(platform, endpointDir);
  const { dynamo, sqs } = createAwsClients({ endpoint: platform.endpointUrl, region: 'us-east-1', credentials: platform.endpointCredentials });
  const activations = new ActivationsRepository(dynamo, configFromEnv({}).tables.activations, 1);
  const queues = [new InvocationQueue(sqs, configFromEnv({}).queues.invoke), new InvocationQueue(sqs, configFromEnv({}).queues.invokeDeadLetter)];
  // Dispatched non-blocking invokes never touch the queue: an empty queue would not mean drained.
  if (process.env.SKYWHISK_DIRECT_NON_BLOCKING === 'true') throw new Error('bench/throughput measures the queued non-blocking path: unset SKYWHISK_DIRECT_NON_BLOCKING.');
  const headers = { authorization: `Basic ${Buffer.from(platform.auth).toString('base64')}`, 'content-type': 'application/json' };
  const api = `${platform.apiHost}/api/v1/namespaces/_`;
  const put = async (path: string, body: object) => {
    const response = await fetch(`${api}/${path}?overwrite=true`, { method: 'PUT', headers, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`PUT ${path}: ${response.status} ${await response.text()}`);
  };
  try {
    await put('actions/noop', { exec: { kind: 'nodejs:22', code: NOOP } });
    await put('actions/seq3', { exec: { kind: 'sequence', components: ['/_/noop', '/_/noop', '/_/noop'] } });
    await put('triggers/tick', {});
    await put('rules/tick-noop', { trigger: '/_/tick', action: '/_/noop' });
    const blockingUrl = `${api}/actions/noop?blocking=true`;

    console.log(`Skywhisk invoke path, ${FACTORY} factory, node ${process.version}, invoker concurrency ${concurrency}, memory ${memoryMb} MB, direct dispatch ${process.env.SKYWHISK_DIRECT_DISPATCH !== 'false'}`);
    // Sequential, one client: against a direct /run of a warm container of the same factory. The
    // three processes are warmed first (their JIT, caches and connections), as the floor's
    // container is: the first thousand calls after a start take about 3 ms longer each.
    await wrk(blockingUrl, 1, 5, platform.auth);
    const sequential: number[] = [];
    const invokeOnce = keptAliveInvoker(blockingUrl, headers);
    for (let i = 0; i < SEQUENTIAL_CALLS + WARM_UP_CALLS; i++) {
      const t = performance.now();
      const status = await invokeOnce();
      if (status !== 200) throw new Error(`blocking invoke answered ${status}`);
      if (i >= WARM_UP_CALLS) sequential.push(performance.now() - t);
    }
    const floor = await directRunFloor();
    console.log(HEADER);
    console.log(formatRow('direct /run of a warm container', floor));
    console.log(formatRow('POST ?blocking=true, sequential', sequential));
    console.log(`  p50 over the direct /run: ${(summarize(sequential).p50 - summarize(floor).p50).toFixed(2)} ms`);

    const single = await wrk(blockingUrl, 1, Math.min(SECONDS, 10), platform.auth);
    printWrk('wrk blocking, 1 connection', single);
    console.log(`  p50 over the direct /run: ${(single.p50 - summarize(floor).p50).toFixed(2)} ms`);
    // Warm a container for every connection first: the figures are of warm invokes.
    await wrk(blockingUrl, 32, 5, platform.auth);
    await meter.begin();
    const blocking = await wrk(blockingUrl, 32, SECONDS, platform.auth);
    printWrk('wrk blocking, 32 connections', blocking);
    await meter.end('warm blocking no-op', blocking.requests);

    await meter.begin();
    const accepted = await wrk(`${api}/actions/noop`, 32, SECONDS, platform.auth);
    printWrk('wrk non-blocking accept, 32 connections', accepted, 'req/s');
    const drainStarted = Date.now();
    const drain = await drainQueue(queues, 300_000);
    const drainedMs = Date.now() - drainStarted;
    await meter.end(`non-blocking no-op (accept and drain${drain.drained ? '' : ', NOT DRAINED in 300 s'})`, accepted.requests, { GetQueueAttributes: drain.polls });
    // Outside the meter: that every accepted id has its record.
    const drained = await reconcile(activations, platform.namespace, accepted.ids, 60_000);
    console.log(`  backlog of ${accepted.ids.length} drained in ${(drainedMs / 1000).toFixed(1)} s; ids without a record: ${drained.missing}`);

    const FIRES = 200;
    await meter.begin();
    const fired: string[] = [];
    for (let i = 0; i < FIRES; i++) {
      const response = await fetch(`${api}/triggers/tick`, { method: 'POST', headers, body: '{}' });
      fired.push(((await response.json()) as { activationId: string }).activationId);
    }
    // A fire's record is the trigger's, written before it answers; the rule's activation is queued.
    const fireDrain = await drainQueue(queues, 120_000);
    await meter.end(`trigger fire with one rule (fire, then its action${fireDrain.drained ? '' : ', NOT DRAINED in 120 s'})`, FIRES, { GetQueueAttributes: fireDrain.polls });
    const fires = await reconcile(activations, platform.namespace, fired, 60_000);
    if (fires.missing) console.log(`  fires without a record: ${fires.missing}`);

    const SEQUENCES = 200;
    await meter.begin();
    for (let i = 0; i < SEQUENCES; i++) {
      const response = await fetch(`${api}/actions/seq3?blocking=true`, { method: 'POST', headers, body: '{}' });
      if (response.status !== 200) throw new Error(`sequence answered ${response.status}`);
      await response.arrayBuffer();
    }
    await meter.end('blocking sequence of three no-ops', SEQUENCES);

    console.log(`peak RSS MB: ${NAMES.map((name) => `${name} ${peakRssMb(platform.processes[name]?.child.pid).toFixed(0)}`).join(', ')}`);
  } finally {
    await dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
