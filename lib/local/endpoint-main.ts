import { startEndpoint } from './endpoint';
import { announceReady, onShutdown } from './child';

/** Process entry of the embedded endpoint: `SKYWHISK_DATA_DIR`, `SKYWHISK_ENDPOINT_PORT`. */
async function main(): Promise<void> {
  const endpoint = await startEndpoint({
    dataDir: process.env.SKYWHISK_DATA_DIR ?? '.skywhisk/endpoint',
    port: Number(process.env.SKYWHISK_ENDPOINT_PORT ?? 0),
  });
  onShutdown(() => endpoint.stop());
  announceReady({ port: endpoint.port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
