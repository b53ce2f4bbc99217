import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from '../controller/app';
import { depsFromEnv } from '../controller/deps';
import { announceReady, onShutdown } from './child';

/** Local controller process: the controller app on a Node HTTP server (`SKYWHISK_PORT`, `SKYWHISK_HOST`). */
function main(): void {
  const app = createApp(depsFromEnv());
  const server = serve(
    { fetch: app.fetch, port: Number(process.env.SKYWHISK_PORT ?? 3233), hostname: process.env.SKYWHISK_HOST ?? '127.0.0.1' },
    (info: AddressInfo) => announceReady({ port: info.port }),
  );
  server.on('error', (error) => {
    console.error(`controller cannot listen: ${error.message}`);
    process.exit(1);
  });
  onShutdown(
    () =>
      new Promise<void>((resolve) => {
        // Stop accepting; requests in progress (blocking waits included) finish first.
        server.close(() => resolve());
        setTimeout(resolve, 65_000).unref();
      }),
  );
}

main();
