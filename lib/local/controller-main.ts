import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { AlarmsRepository } from '../alarms/store';
import { LocalAlarmScheduler } from '../alarms/scheduler';
import { awsClients } from '../aws-clients';
import { configFromEnv } from '../config';
import { alarmFireCallback } from '../controller/alarm-fire';
import { createApp } from '../controller/app';
import { depsFromEnv } from '../controller/deps';
import { announceReady, onShutdown } from './child';

const log = pino({ name: 'controller', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' });

/** Local controller process: the controller app on a Node HTTP server (`SKYWHISK_PORT`, `SKYWHISK_HOST`). */
async function main(): Promise<void> {
  const deps = depsFromEnv();
  // The embedded platform runs the alarms feed's scheduler in the controller process.
  const config = configFromEnv();
  const alarms = new LocalAlarmScheduler(new AlarmsRepository(awsClients().dynamo, config.tables.entities), log);
  deps.alarms = alarms;
  await alarms.start(alarmFireCallback(deps, alarms, log));
  const app = createApp(deps);
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
        const alarmsStopped = alarms.stop().catch(() => undefined);
        // Stop accepting; requests in progress (blocking waits included) and alarm fires finish
        // first, then the admissions reserved and not handed out are given back.
        server.close(() => void alarmsStopped.then(() => deps.throttles.releaseShares()).finally(resolve));
        setTimeout(resolve, 65_000).unref();
      }),
  );
}

void main();
