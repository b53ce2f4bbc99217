import type { RunningPlatform } from '../lib/local/platform';
import type { PoolStatus } from '../lib/invoker/container-pool';
import { startBenchPlatform } from './platform';
import { summarize } from './stats';

/**
 * A skewed mix on a memory budget: 20 nodejs actions of 256 MB, called in bursts where a few are hot
 * and most are rarely called, the same seeded sequence for every stem-cell setting compared. What
 * the pool did comes from its counters: warm hits, stem cells taken, cold starts.
 */
const ACTIONS = 20;
const ROUNDS = Number(process.env.SKYWHISK_BENCH_MIX_ROUNDS ?? 120);
const MAX_BURST = 6;
const PAUSE_BETWEEN_BURSTS_MS = 150;

/** mulberry32: a small seeded generator, so every setting sees the same calls. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bursts of action indexes, Zipf-like (weight 1/rank^1.3): a few hot actions, a long cold tail. */
export function mixSchedule(seed = 42): number[][] {
  const random = seeded(seed);
  const weights = Array.from({ length: ACTIONS }, (_, rank) => 1 / (rank + 1) ** 1.3);
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = random() * total;
    for (let i = 0; i < ACTIONS; i++) {
      r -= weights[i];
      if (r <= 0) return i;
    }
    return ACTIONS - 1;
  };
  return Array.from({ length: ROUNDS }, () => Array.from({ length: 1 + Math.floor(random() * MAX_BURST) }, pick));
}

export interface MixResult {
  pool: string;
  label: string;
  activations: number;
  warm: number;
  prewarmed: number;
  cold: number;
  evicted: number;
  latency: ReturnType<typeof summarize>;
}

async function poolOf(platform: RunningPlatform): Promise<PoolStatus> {
  return (await platform.invokerStatus()).pool;
}

export async function runMix(pool: string, label: string, env: NodeJS.ProcessEnv): Promise<MixResult> {
  const bench = await startBenchPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_POLL_WAIT_S: '1', SKYWHISK_MEMORY_BUDGET_MB: '2048', ...env });
  try {
    const { platform } = bench;
    const headers = { authorization: `Basic ${Buffer.from(platform.auth).toString('base64')}`, 'content-type': 'application/json' };
    const url = (i: number) => `${platform.apiHost}/api/v1/namespaces/_/actions/mix${i}`;
    for (let i = 0; i < ACTIONS; i++) {
      await fetch(url(i), { method: 'PUT', headers, body: JSON.stringify({ exec: { kind: 'nodejs:22', code: 'function main() { return {}; }' } }) });
    }
    // Start from the configured stem cells, all ready.
    const deadline = Date.now() + 30_000;
    while ((await poolOf(platform)).states.starting > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const before = (await poolOf(platform)).counters;
    const latencies: number[] = [];
    for (const burst of mixSchedule()) {
      await Promise.all(
        burst.map(async (i) => {
          const started = performance.now();
          const response = await fetch(`${url(i)}?blocking=true`, { method: 'POST', headers, body: '{}' });
          await response.text();
          if (response.status !== 200) throw new Error(`mix: invoke answered ${response.status}`);
          latencies.push(performance.now() - started);
        }),
      );
      await new Promise((r) => setTimeout(r, PAUSE_BETWEEN_BURSTS_MS));
    }
    const after = (await poolOf(platform)).counters;
    return {
      pool,
      label,
      activations: latencies.length,
      warm: after.warm - before.warm,
      prewarmed: after.prewarmed - before.prewarmed,
      cold: after.cold - before.cold,
      evicted: after.evicted - before.evicted,
      latency: summarize(latencies),
    };
  } finally {
    await bench.dispose();
  }
}

export function formatMix(results: MixResult[]): string[] {
  const lines = [`${'pool'.padEnd(16)}${'stem cells'.padEnd(34)}${'calls'.padStart(6)}${'warm%'.padStart(7)}${'warm'.padStart(6)}${'stem'.padStart(6)}${'cold'.padStart(6)}${'evict'.padStart(7)}${'p50'.padStart(8)}${'p90'.padStart(8)}${'p99'.padStart(8)}`];
  for (const r of results) {
    lines.push(
      `${r.pool.padEnd(16)}${r.label.padEnd(34)}${String(r.activations).padStart(6)}${((100 * r.warm) / r.activations).toFixed(1).padStart(7)}${String(r.warm).padStart(6)}${String(r.prewarmed).padStart(6)}${String(r.cold).padStart(6)}${String(r.evicted).padStart(7)}${r.latency.p50.toFixed(1).padStart(8)}${r.latency.p90.toFixed(1).padStart(8)}${r.latency.p99.toFixed(1).padStart(8)}`,
    );
  }
  return lines;
}
