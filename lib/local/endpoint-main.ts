import { startEndpoint } from './endpoint';
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
  announceReady({ port: endpoint.port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
