import { createServer } from 'node:net';
import Docker from 'dockerode';
import { RuntimeClient } from '../lib/invoker/runtime-client';
import type { RunningPlatform } from '../lib/local/platform';
import { imageForKind } from '../lib/model/runtimes';
import { startBenchPlatform } from './platform';
import { formatMix, runMix, type MixResult } from './pool-mix';
import { formatRow, HEADER, summarize } from './stats';

/**
 * The Docker container pool against its floors, measured in one run on this machine:
 * bare `docker run` of the runtime image to its first /run, a direct /run on a warm container, and
 * through Skywhisk a cold start, a prewarmed start, a warm invoke and a resume from paused; then a
 * skewed mix of 20 actions on a 2 GB budget under each stem-cell setting (bench/pool-mix.ts).
 *   npx tsx bench/docker-pool.ts [samples=20] [warm samples=300]
 *   SKYWHISK_BENCH_MIX_ONLY=true: the mix alone (SKYWHISK_BENCH_MIX_POOL='2 GB': one pool of it);
 *   SKYWHISK_BENCH_SKIP_MIX=true: everything but the mix.
 */
const SAMPLES = Number(process.argv[2] ?? 20);
const WARM_SAMPLES = Number(process.argv[3] ?? 300);
const NOOP = 'function main() { return {}; }';
const IMAGE = imageForKind('nodejs:22');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** `docker run` of the runtime image (host network), then /init and the first /run. */
async function bareDockerRun(docker: Docker): Promise<{ total: number[]; warmRun: number[] }> {
  const total: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const port = await freePort();
    const client = new RuntimeClient({ host: '127.0.0.1', port });
    let container: Docker.Container | undefined;
    total.push(
      await time(async () => {
        container = await docker.createContainer({
          Image: IMAGE,
          Env: [`__OW_LISTEN=${port}`, '__OW_LISTEN_HOST=127.0.0.1'],
          HostConfig: { NetworkMode: 'host', Memory: 256 * 1024 * 1024 },
        });
        await container.start();
        await client.post('/init', { value: { name: 'noop', main: 'main', code: NOOP, binary: false, env: {} } }, 30_000, true);
        await client.post('/run', { value: {} }, 30_000);
      }),
    );
    client.close();
    await container?.remove({ force: true });
  }
  // The floor: /run on one warm container.
  const port = await freePort();
  const container = await docker.createContainer({ Image: IMAGE, Env: [`__OW_LISTEN=${port}`, '__OW_LISTEN_HOST=127.0.0.1'], HostConfig: { NetworkMode: 'host' } });
  await container.start();
  const client = new RuntimeClient({ host: '127.0.0.1', port });
  await client.post('/init', { value: { name: 'noop', main: 'main', code: NOOP, binary: false, env: {} } }, 30_000, true);
  const warmRun: number[] = [];
  for (let i = 0; i < WARM_SAMPLES + 50; i++) {
    const sample = await time(() => client.post('/run', { value: {} }, 30_000));
    if (i >= 50) warmRun.push(sample);
  }
  client.close();
  await container.remove({ force: true });
  return { total, warmRun };
}

function platformWith(env: NodeJS.ProcessEnv) {
  return startBenchPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_POLL_WAIT_S: '1', ...env });
}

function api(platform: RunningPlatform) {
  const headers = { authorization: `Basic ${Buffer.from(platform.auth).toString('base64')}`, 'content-type': 'application/json' };
  const url = (name: string) => `${platform.apiHost}/api/v1/namespaces/_/actions/${name}`;
  return {
    create: async (name: string) => {
      await fetch(url(name), { method: 'PUT', headers, body: JSON.stringify({ exec: { kind: 'nodejs:22', code: NOOP } }) });
    },
    invoke: async (name: string) => {
      const response = await fetch(`${url(name)}?blocking=true`, { method: 'POST', headers, body: '{}' });
      await response.text();
      if (response.status !== 200) throw new Error(`invoke answered ${response.status}`);
    },
    pool: async () => (await platform.invokerStatus()).pool,
  };
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: waited 30 s for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Reactive checks every 5 s (default 60 s), so that a run of under a minute shows what the default shows over minutes. */
const MIX_CHECK_MS = '5000';
const MIX_SETTINGS: Array<[string, NodeJS.ProcessEnv]> = [
  ['none', { SKYWHISK_STEM_CELLS: '' }],
  ['static: nodejs 2 (the old default)', { SKYWHISK_STEM_CELLS: 'nodejs:22:256:2' }],
  [
    'reactive: nodejs 2, 1..4',
    {
      SKYWHISK_STEM_CELLS: '[{"kind":"nodejs:22","memory":"256 MB","initialCount":2,"reactive":{"minCount":1,"maxCount":4,"ttl":"2 minutes","threshold":1,"increment":1}}]',
      SKYWHISK_PREWARM_CHECK_INTERVAL_MS: MIX_CHECK_MS,
    },
  ],
  ['default: reactive nodejs + python', { SKYWHISK_PREWARM_CHECK_INTERVAL_MS: MIX_CHECK_MS }],
];

/**
 * 2 GB: memory-bound (the 20 actions need 5 GB). 8 GB with idle containers removed after 3 s: the
 * rarely called actions start again and again, several at once, as a long-running invoker's do
 * after its 10-minute idle timeout.
 */
const MIX_POOLS: Array<[string, NodeJS.ProcessEnv]> = [
  ['2 GB', { SKYWHISK_MEMORY_BUDGET_MB: '2048' }],
  ['8 GB, idle 3 s', { SKYWHISK_MEMORY_BUDGET_MB: '8192', SKYWHISK_IDLE_CONTAINER_MS: '3000' }],
];

async function mixes(): Promise<MixResult[]> {
  const only = process.env.SKYWHISK_BENCH_MIX_POOL;
  const results: MixResult[] = [];
  for (const [pool, poolEnv] of MIX_POOLS.filter(([name]) => !only || name === only)) for (const [label, env] of MIX_SETTINGS) {
    progress(`skewed mix, ${pool}, stem cells ${label}...`);
    results.push(await runMix(pool, label, { ...poolEnv, ...env }));
  }
  return results;
}

function printMixes(results: MixResult[]): void {
  console.log(`Skewed mix: 20 nodejs actions of 256 MB, bursts of 1-6 blocking calls (same seeded sequence each); reactive checks every ${Number(MIX_CHECK_MS) / 1000} s`);
  for (const line of formatMix(results)) console.log(line);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const docker = new Docker();
  await docker.ping().catch(() => {
    throw new Error('this benchmark needs a Docker engine (and `npm run images`)');
  });
  if (process.env.SKYWHISK_BENCH_MIX_ONLY === 'true') {
    printMixes(await mixes());
    return;
  }
  progress('bare docker run and the warm floor...');
  const bare = await bareDockerRun(docker);
  progress('cold and warm through Skywhisk...');

  // Cold and warm: no stem cells; long pause grace.
  const a = await platformWith({ SKYWHISK_STEM_CELLS: '' });
  const cold: number[] = [];
  const warm: number[] = [];
  try {
    const calls = api(a.platform);
    for (let i = 0; i < SAMPLES; i++) {
      await calls.create(`cold${i}`);
      cold.push(await time(() => calls.invoke(`cold${i}`)));
    }
    await calls.create('warm');
    for (let i = 0; i < WARM_SAMPLES + 50; i++) {
      const sample = await time(() => calls.invoke('warm'));
      if (i >= 50) warm.push(sample);
    }
  } finally {
    await a.dispose();
  }

  // Prewarmed and resume: two stem cells; pause after 100 ms idle. Each sample leaves a warm
  // container behind, so the budget is large enough that stem cells can always be refilled.
  progress('prewarmed and resumed through Skywhisk...');
  const b = await platformWith({ SKYWHISK_STEM_CELLS: 'nodejs:22:256:2', SKYWHISK_PAUSE_GRACE_MS: '100', SKYWHISK_MEMORY_BUDGET_MB: String(256 * (SAMPLES + 4)) });
  const prewarmed: number[] = [];
  const resumed: number[] = [];
  try {
    const calls = api(b.platform);
    for (let i = 0; i < SAMPLES; i++) {
      await until('two stem cells', async () => (await calls.pool()).states.prewarmed === 2);
      await calls.create(`stem${i}`);
      prewarmed.push(await time(() => calls.invoke(`stem${i}`)));
    }
    await calls.create('napper');
    await calls.invoke('napper');
    for (let i = 0; i < SAMPLES; i++) {
      await until('a paused container', async () => (await calls.pool()).containers.some((c) => c.action === 'guest/napper' && c.state === 'paused'));
      resumed.push(await time(() => calls.invoke('napper')));
    }
  } finally {
    await b.dispose();
  }

  const p50 = (samples: number[]) => summarize(samples).p50;
  console.log(`Docker container pool, nodejs:22 no-op, ${SAMPLES} samples (warm: ${WARM_SAMPLES}), one client, blocking invokes`);
  console.log(HEADER);
  console.log(formatRow('bare docker run + /init + first /run', bare.total));
  console.log(formatRow('floor: direct /run on a warm container', bare.warmRun));
  console.log(formatRow('Skywhisk cold start (container created)', cold));
  console.log(formatRow('Skywhisk prewarmed start (stem cell)', prewarmed));
  console.log(formatRow('Skywhisk warm invoke', warm));
  console.log(formatRow('Skywhisk resume from paused', resumed));
  console.log('p50 against the targets:');
  console.log(`  warm overhead over the floor: ${(p50(warm) - p50(bare.warmRun)).toFixed(1)} ms (target <= 3 ms); ratio ${(p50(warm) / p50(bare.warmRun)).toFixed(1)}x`);
  console.log(`  prewarmed over warm:          ${(p50(prewarmed) - p50(warm)).toFixed(1)} ms (target <= 20 ms)`);
  console.log(`  cold / bare run + init:       ${(p50(cold) / p50(bare.total)).toFixed(2)}x (target <= 1.2x)`);
  console.log(`  resume over warm:             ${(p50(resumed) - p50(warm)).toFixed(1)} ms (target <= 40 ms)`);
  if (process.env.SKYWHISK_BENCH_SKIP_MIX !== 'true') printMixes(await mixes());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
