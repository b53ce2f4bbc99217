import { startEndpoint } from './endpoint';
import { announceReady, onShutdown } from './child';

/**
 * Process entry of the embedded endpoint: `SKYWHISK_DATA_DIR`, `SKYWHISK_ENDPOINT_PORT`, and
 * `SKYWHISK_ENDPOINT_ACCESS_KEY_ID` (when set, the only access key id accepted).
 */
async function main(): Promise<void> {
  const endpoint = await startEndpoint({
    dataDir: process.env.SKYWHISK_DATA_DIR ?? '.skywhisk/endpoint',
    port: Number(process.env.SKYWHISK_ENDPOINT_PORT ?? 0),
    accessKeyId: process.env.SKYWHISK_ENDPOINT_ACCESS_KEY_ID || undefined,
  });
  onShutdown(() => endpoint.stop());
  announceReady({ port: endpoint.port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
