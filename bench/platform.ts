import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPENWHISK_GUEST_AUTH, startPlatform, type RunningPlatform } from '../lib/local/platform';

/** An embedded platform in a temporary data dir for a benchmark; `dispose` stops it and removes the dir. */
export async function startBenchPlatform(env: NodeJS.ProcessEnv = {}): Promise<{ platform: RunningPlatform; dataDir: string; dispose(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-bench-'));
  const platform = await startPlatform({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    guestAuth: OPENWHISK_GUEST_AUTH,
    guestNamespace: 'guest',
    // Benchmarks lift the throttles, as OpenWhisk's performance suite does.
    guestLimits: { invocationsPerMinute: 1_000_000, concurrentInvocations: 1_000_000, firesPerMinute: 1_000_000 },
    env: { AWS_ENDPOINT_URL: undefined, SKYWHISK_LOG_LEVEL: 'warn', ...env },
  });
  return {
    platform,
    dataDir,
    async dispose() {
      await platform.stop();
      // SKYWHISK_BENCH_KEEP_DATA=true keeps the data dir (tables, queue journal, logs) to look into.
      if (process.env.SKYWHISK_BENCH_KEEP_DATA === 'true') console.log(`data kept in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
