import Docker from 'dockerode';
import { buildImages } from './build';

/** `npm run images [-- --rebuild]`: builds every runtime image locally, with no registry. */
async function main(): Promise<void> {
  const docker = new Docker();
  await docker.ping();
  await buildImages(docker, { rebuild: process.argv.includes('--rebuild'), log: (line) => console.log(line) });
  console.log('runtime images are ready');
}

main().catch((error: unknown) => {
  console.error(`images: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
