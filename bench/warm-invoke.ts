import { bubblewrapWorks, ProcessContainerFactory } from '../lib/invoker/process-factory';
import { startBenchPlatform } from './platform';
import { formatRow, HEADER } from './stats';

/**
 * Warm blocking-invoke latency of a no-op action through the embedded platform, against the floor
 * of a direct `/run` on a warm runtime process, with the platform's time split into phases read
 * from each activation record. Prints figures; passes or fails nothing.
 *   npm run bench -- [calls=1000]
 */
const CALLS = Number(process.argv[2] ?? 1000);
const NOOP = 'function main() { return {}; }';

async function floor(): Promise<number[]> {
  const factory = new ProcessContainerFactory({ sandbox: bubblewrapWorks() });
  const container = await factory.create({ kind: 'nodejs:22', memoryMb: 256, env: {}, name: 'bench' });
  await container.init({ value: { name: 'noop', main: 'main', code: NOOP, binary: false, env: {} } }, 10_000);
  const samples: number[] = [];
  for (let i = 0; i < CALLS + 50; i++) {
    const t = performance.now();
    await container.run({ value: {}, activation_id: 'x' }, 10_000);
    await container.collectLogs(1024, 1000);
    if (i >= 50) samples.push(performance.now() - t);
  }
  await container.destroy();
  factory.dispose();
  return samples;
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // The process factory: this benchmark measures the platform path, not Docker.
  const { platform, dispose } = await startBenchPlatform({ SKYWHISK_CONTAINER_FACTORY: 'process' });
  const headers = { authorization: `Basic ${Buffer.from(platform.auth).toString('base64')}`, 'content-type': 'application/json' };
  const actionUrl = `${platform.apiHost}/api/v1/namespaces/_/actions/noop`;
  try {
    await fetch(actionUrl, { method: 'PUT', headers, body: JSON.stringify({ exec: { kind: 'nodejs:default', code: NOOP } }) });
    const latencies: number[] = [];
    const phases = { accept: [] as number[], wait: [] as number[], run: [] as number[], reply: [] as number[] };
    for (let i = 0; i < CALLS + 50; i++) {
      const sent = Date.now();
      const t = performance.now();
      const response = await fetch(`${actionUrl}?blocking=true`, { method: 'POST', headers, body: '{}' });
      const record = (await response.json()) as { activationId: string; start: number; end: number; annotations: Array<{ key: string; value: unknown }> };
      const elapsed = performance.now() - t;
      const received = Date.now();
      if (response.status !== 200) throw new Error(`invoke answered ${response.status}: ${JSON.stringify(record)}`);
      if (i < 50) continue; // warm-up
      latencies.push(elapsed);
      const acceptedAt = parseInt(record.activationId.slice(0, 12), 16);
      const waitTime = Number(record.annotations.find((a) => a.key === 'waitTime')?.value);
      phases.accept.push(acceptedAt - sent);
      phases.wait.push(waitTime);
      phases.run.push(record.end - record.start);
      phases.reply.push(received - record.end);
    }
    const floorSamples = await floor();
    console.log(`Warm blocking invoke of a no-op nodejs action, ${CALLS} sequential calls (after 50 warm-up), one client`);
    console.log(`container factory: process (${bubblewrapWorks() ? 'bubblewrap' : 'no sandbox'}), node ${process.version}`);
    console.log(HEADER);
    console.log(formatRow('floor: direct /run on a warm runtime', floorSamples));
    console.log(formatRow('through Skywhisk: POST ?blocking=true', latencies));
    console.log('phases (from records; ms resolution):');
    console.log(formatRow('  client send -> controller accepted', phases.accept));
    console.log(formatRow('  accepted -> run starts (waitTime)', phases.wait));
    console.log(formatRow('  run (record start..end)', phases.run));
    console.log(formatRow('  run end -> client has the answer', phases.reply));
  } finally {
    await dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
