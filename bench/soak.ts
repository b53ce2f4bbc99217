import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { RunningPlatform } from '../lib/local/platform';
import { startBenchPlatform } from './platform';
import { summarize } from './stats';

/**
 * Soak: N activations of a no-op nodejs action at concurrency C through the OpenWhisk REST API of
 * the embedded default platform, then a reconciliation: every activation id handed to the client
 * must end in exactly one record. Prints loss, duplicates, errors, latency, throughput and the
 * peak RSS of each platform process; exits 1 when an activation was lost or duplicated.
 *   node --import tsx bench/soak.ts [--activations 20000] [--concurrency 64] [--nonblocking-every 10] [--deadline-s 120]
 *     [--kill-endpoint-every-s N]   (SIGKILL the embedded endpoint every N s while invoking: the supervisor restarts it)
 */

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} takes a whole number`);
  return value;
}

const ACTIVATIONS = flag('activations', 20_000);
const CONCURRENCY = Math.max(1, flag('concurrency', 64));
/** Every Nth invoke is non-blocking (0: none). */
const NONBLOCKING_EVERY = flag('nonblocking-every', 10);
/** How long after the last invoke answered every id may take to have its record. */
const DEADLINE_MS = flag('deadline-s', 120) * 1000;
const KILL_ENDPOINT_EVERY_MS = flag('kill-endpoint-every-s', 0) * 1000;
const NOOP = 'function main() { return {}; }';
const ACTIVATION_ID_HEADER = 'x-openwhisk-activation-id';

type ProcessName = 'controller' | 'invoker' | 'endpoint';

/** Reads one field (kB) of /proc/<pid>/status; undefined when the process is gone. */
function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Parent of every live process, from /proc/<pid>/stat. */
function parentMap(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return parents;
}

/** The roots and every process below them. */
function withDescendants(roots: number[], parents: Map<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    found.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * Samples every 500 ms the RSS of the platform's processes (the current one of each name: the
 * supervisor may replace a crashed one) and of the action containers: with Docker, the processes of
 * this invoker's containers; with the process factory, every process below the invoker.
 */
class RssSampler {
  readonly peakKb: Record<ProcessName, number> = { controller: 0, invoker: 0, endpoint: 0 };
  /** Without file-backed pages: the endpoint's store files are mapped, and their pages count in its RSS. */
  readonly peakAnonKb: Record<ProcessName, number> = { controller: 0, invoker: 0, endpoint: 0 };
  readonly pids: Record<ProcessName, Set<number>> = { controller: new Set(), invoker: new Set(), endpoint: new Set() };
  peakContainersKb = 0;
  peakContainers = 0;
  private containerPids: number[] = [];
  private timer?: NodeJS.Timeout;
  private dockerTimer?: NodeJS.Timeout;

  constructor(
    private readonly platform: RunningPlatform,
    private readonly docker: { engine: Docker; namePrefix: () => string } | undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), 500);
    if (this.docker) {
      void this.refreshContainers();
      this.dockerTimer = setInterval(() => void this.refreshContainers(), 2000);
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
    clearInterval(this.dockerTimer);
  }

  private async refreshContainers(): Promise<void> {
    const docker = this.docker!;
    try {
      const prefix = `/${docker.namePrefix()}`;
      const running = (await docker.engine.listContainers()).filter((c) => c.Names.some((n) => n.startsWith(prefix)));
      const pids = await Promise.all(running.map((c) => docker.engine.getContainer(c.Id).inspect().then((i) => i.State.Pid, () => 0)));
      this.containerPids = pids.filter((pid) => pid > 0);
    } catch {
      // the engine is busy; keep the last list
    }
  }

  private sample(): void {
    for (const name of ['controller', 'invoker', 'endpoint'] as const) {
      const pid = this.platform.processes[name]?.child.pid;
      if (pid === undefined) continue;
      this.pids[name].add(pid);
      const kb = procStatusKb(pid, 'VmHWM') ?? procStatusKb(pid, 'VmRSS') ?? 0;
      this.peakKb[name] = Math.max(this.peakKb[name], kb);
      this.peakAnonKb[name] = Math.max(this.peakAnonKb[name], procStatusKb(pid, 'RssAnon') ?? 0);
    }
    const parents = parentMap();
    let containers: number[];
    if (this.docker) {
      containers = withDescendants(this.containerPids, parents);
      this.peakContainers = Math.max(this.peakContainers, this.containerPids.length);
    } else {
      const invoker = this.platform.processes.invoker.child.pid;
      containers = invoker === undefined ? [] : withDescendants([invoker], parents).filter((pid) => pid !== invoker);
      // One runtime per container: the processes whose parent is the invoker.
      this.peakContainers = Math.max(this.peakContainers, containers.filter((pid) => parents.get(pid) === invoker).length);
    }
    const total = containers.reduce((sum, pid) => sum + (procStatusKb(pid, 'VmRSS') ?? 0), 0);
    this.peakContainersKb = Math.max(this.peakContainersKb, total);
  }
}

interface Outcome {
  /** Every activation id handed to the client, in the order handed out. */
  ids: string[];
  latencies: number[];
  errors: Map<string, number>;
  blocking202: number;
  nonBlocking: number;
  elapsedMs: number;
}

async function invokeAll(actionUrl: string, headers: Record<string, string>): Promise<Outcome> {
  const outcome: Outcome = { ids: [], latencies: [], errors: new Map(), blocking202: 0, nonBlocking: 0, elapsedMs: 0 };
  const countError = (key: string) => outcome.errors.set(key, (outcome.errors.get(key) ?? 0) + 1);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    console.log(`  ${done}/${ACTIVATIONS} answered after ${seconds.toFixed(0)} s`);
  }, 10_000);
  async function worker(): Promise<void> {
    while (next < ACTIVATIONS) {
      const i = next++;
      const blocking = !(NONBLOCKING_EVERY > 0 && i % NONBLOCKING_EVERY === NONBLOCKING_EVERY - 1);
      const t = performance.now();
      try {
        const response = await fetch(blocking ? `${actionUrl}?blocking=true` : actionUrl, { method: 'POST', headers, body: '{}' });
        const text = await response.text();
        const elapsed = performance.now() - t;
        let body: { activationId?: unknown } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // not JSON: counted below by its status
        }
        const id = response.headers.get(ACTIVATION_ID_HEADER) ?? (typeof body.activationId === 'string' ? body.activationId : undefined);
        if (id) outcome.ids.push(id);
        if (!response.ok) {
          countError(String(response.status));
          if (response.status >= 500 && !id) console.error(`  ${response.status} without an activation id: ${text.slice(0, 300)}`);
        }
        if (!blocking) outcome.nonBlocking++;
        else if (response.status === 202) outcome.blocking202++;
        if (blocking && response.status === 200) outcome.latencies.push(elapsed);
      } catch (error) {
        countError(`network (${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)})`);
      }
      done++;
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
  clearInterval(progress);
  outcome.elapsedMs = performance.now() - started;
  return outcome;
}

/** Polls each id's record until all exist or the deadline passes; returns the ids still without one. */
async function reconcile(ids: string[], base: string, headers: Record<string, string>, deadline: number, errors: Map<string, number>): Promise<string[]> {
  let missing = [...new Set(ids)];
  for (;;) {
    const stillMissing: string[] = [];
    let cursor = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (cursor < missing.length) {
          const id = missing[cursor++];
          try {
            const response = await fetch(`${base}/activations/${id}`, { headers });
            await response.arrayBuffer();
            if (response.status === 200) continue;
            if (response.status !== 404) errors.set(`GET record ${response.status}`, (errors.get(`GET record ${response.status}`) ?? 0) + 1);
          } catch {
            errors.set('GET record network', (errors.get('GET record network') ?? 0) + 1);
          }
          stillMissing.push(id);
        }
      }),
    );
    missing = stillMissing;
    if (missing.length === 0 || Date.now() > deadline) return missing;
    console.log(`  ${missing.length} ids without a record yet`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Every record of the namespace, through the list API (200 a page). */
async function listAll(base: string, headers: Record<string, string>): Promise<{ ids: string[]; count: number }> {
  const countResponse = await fetch(`${base}/activations?count=true`, { headers });
  const { activations: count } = (await countResponse.json()) as { activations: number };
  const ids: string[] = [];
  for (let skip = 0; ; skip += 200) {
    const response = await fetch(`${base}/activations?limit=200&skip=${skip}`, { headers });
    if (!response.ok) throw new Error(`listing activations answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as Array<{ activationId: string }>;
    ids.push(...page.map((r) => r.activationId));
    if (page.length < 200) return { ids, count };
  }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  console.log(`Soak: ${ACTIVATIONS} activations of a no-op nodejs action at concurrency ${CONCURRENCY}, 1 in ${NONBLOCKING_EVERY || '∞'} non-blocking`);
  // The default platform: its container factory is whatever it picks (Docker when an engine answers).
  const { platform, dataDir, dispose } = await startBenchPlatform();
  const auth = `Basic ${Buffer.from(platform.auth).toString('base64')}`;
  const headers = { authorization: auth, 'content-type': 'application/json' };
  const base = `${platform.apiHost}/api/v1/namespaces/_`;
  let failed: boolean;
  let sampler: RssSampler | undefined;
  try {
    const status = await platform.invokerStatus();
    console.log(`container factory: ${status.factory}; node ${process.version}; invoker concurrency ${process.env.SKYWHISK_INVOKER_CONCURRENCY ?? 16}`);
    const docker = status.factory.startsWith('docker')
      ? { engine: new Docker(), namePrefix: () => `skywhisk-${status.id}-${platform.processes.invoker.child.pid}-` }
      : undefined;
    sampler = new RssSampler(platform, docker);
    sampler.start();

    const created = await fetch(`${base}/actions/noop`, { method: 'PUT', headers, body: JSON.stringify({ exec: { kind: 'nodejs:default', code: NOOP } }) });
    if (!created.ok) throw new Error(`creating the action answered ${created.status}: ${await created.text()}`);

    let endpointKills = 0;
    const killer = KILL_ENDPOINT_EVERY_MS
      ? setInterval(() => {
          const endpoint = platform.processes.endpoint;
          if (endpoint?.child.kill('SIGKILL')) endpointKills++;
        }, KILL_ENDPOINT_EVERY_MS)
      : undefined;
    const outcome = await invokeAll(`${base}/actions/noop`, headers);
    clearInterval(killer);
    const lastInvoke = Date.now();
    const distinct = new Set(outcome.ids);
    console.log(`invokes answered in ${(outcome.elapsedMs / 1000).toFixed(1)} s; reconciling ${distinct.size} ids`);
    const reconcileErrors = new Map<string, number>();
    const lost = await reconcile(outcome.ids, base, headers, lastInvoke + DEADLINE_MS, reconcileErrors);
    const settledMs = outcome.elapsedMs + (Date.now() - lastInvoke);
    const listStarted = Date.now();
    const listed = await listAll(base, headers);
    const listMs = Date.now() - listStarted;
    sampler.stop();

    // Duplicates: an id handed out twice, a record listed twice, or a record for an id never handed out.
    const idsHandedTwice = outcome.ids.length - distinct.size;
    const seen = new Set<string>();
    let listedTwice = 0;
    let unknownRecords = 0;
    for (const id of listed.ids) {
      if (seen.has(id)) listedTwice++;
      else if (!distinct.has(id)) unknownRecords++;
      seen.add(id);
    }
    const duplicated = idsHandedTwice + listedTwice + unknownRecords;
    const errorCount = [...outcome.errors.values()].reduce((a, b) => a + b, 0);

    console.log('');
    console.log(`total invokes:           ${ACTIVATIONS} (${ACTIVATIONS - outcome.nonBlocking} blocking, ${outcome.nonBlocking} non-blocking)`);
    console.log(`activation ids handed:   ${outcome.ids.length} (${distinct.size} distinct; ${outcome.blocking202} blocking invokes answered 202)`);
    if (KILL_ENDPOINT_EVERY_MS) console.log(`endpoint SIGKILLs:       ${endpointKills} (restarted ${platform.supervisor.restarts.endpoint} times)`);
    console.log(`records:                 ${listed.ids.length} listed, ${listed.count} counted (?count=true)`);
    console.log(`lost:                    ${lost.length}${lost.length ? ` (e.g. ${lost.slice(0, 5).join(', ')})` : ''}`);
    console.log(`duplicated:              ${duplicated} (ids handed twice ${idsHandedTwice}, listed twice ${listedTwice}, records of ids never handed out ${unknownRecords})`);
    console.log(`errors:                  ${errorCount}${errorCount ? ` (${[...outcome.errors].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`);
    if (reconcileErrors.size) console.log(`reconcile errors:        ${[...reconcileErrors].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    if (outcome.latencies.length) {
      const s = summarize(outcome.latencies);
      const f = (n: number) => `${n.toFixed(1)} ms`;
      console.log(`blocking 200 latency:    p50 ${f(s.p50)}, p90 ${f(s.p90)}, p99 ${f(s.p99)}, max ${f(s.max)} (${outcome.latencies.length} samples)`);
    }
    console.log(`reconcile:               every id's record fetched ${((settledMs - outcome.elapsedMs) / 1000).toFixed(1)} s after the last invoke; listing took ${(listMs / 1000).toFixed(1)} s`);
    console.log(`throughput:              ${(ACTIVATIONS / (outcome.elapsedMs / 1000)).toFixed(1)} act/s answered; ${(distinct.size / (settledMs / 1000)).toFixed(1)} act/s until every record existed`);
    for (const name of ['controller', 'invoker', 'endpoint'] as const) {
      const restarts = sampler.pids[name].size > 1 ? ` (${sampler.pids[name].size} pids: it was restarted)` : '';
      console.log(`peak RSS ${name.padEnd(16)} ${mb(sampler.peakKb[name])} (anonymous ${mb(sampler.peakAnonKb[name])})${restarts}`);
    }
    console.log(
      `peak RSS action containers ${mb(sampler.peakContainersKb)} summed over their processes (shared pages counted per process), at most ${sampler.peakContainers} at once`,
    );
    failed = lost.length > 0 || duplicated > 0;
    if (failed || errorCount > 0) {
      const kept = mkdtempSync(join(tmpdir(), 'skywhisk-soak-logs-'));
      cpSync(join(dataDir, 'logs'), kept, { recursive: true });
      console.log(`platform logs kept in ${kept}`);
    }
  } finally {
    sampler?.stop();
    await dispose();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
