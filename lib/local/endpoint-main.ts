import { CALL_COUNTS_FILE, startEndpoint } from './endpoint';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { announceReady, onShutdown } from './child';

/**
 * Process entry of the embedded endpoint: `SKYWHISK_DATA_DIR`, `SKYWHISK_ENDPOINT_PORT` (or
 * `SKYWHISK_ENDPOINT_HELD_PORT`: the port the supervisor holds, whose connections it hands over), and
 * `SKYWHISK_ENDPOINT_ACCESS_KEY_ID` with `SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY` (when set, the only
 * credentials whose signatures are accepted).
 */
async function main(): Promise<void> {
  const accessKeyId = process.env.SKYWHISK_ENDPOINT_ACCESS_KEY_ID || undefined;
  const secretAccessKey = process.env.SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY || undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new Error('Set both SKYWHISK_ENDPOINT_ACCESS_KEY_ID and SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY, or neither.');
  }
  // The secret must not be inherited by anything this process might start.
  delete process.env.SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY;
  const endpoint = await startEndpoint({
    dataDir: process.env.SKYWHISK_DATA_DIR ?? '.skywhisk/endpoint',
    port: Number(process.env.SKYWHISK_ENDPOINT_PORT ?? 0),
    heldPort: process.env.SKYWHISK_ENDPOINT_HELD_PORT ? Number(process.env.SKYWHISK_ENDPOINT_HELD_PORT) : undefined,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  });
  onShutdown(() => endpoint.stop());
  // Benchmarks count store and queue calls per activation: SIGUSR2 writes the counts so far.
  const dataDir = process.env.SKYWHISK_DATA_DIR ?? '.skywhisk/endpoint';
  process.on('SIGUSR2', () => writeFileSync(join(dataDir, CALL_COUNTS_FILE), JSON.stringify(endpoint.callCounts())));
  announceReady({ port: endpoint.port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
