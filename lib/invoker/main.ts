import Docker from 'dockerode';
import pino from 'pino';
import { buildImages } from '../images/build';
import { awsClients } from '../aws-clients';
import { InvocationQueue } from '../bus/invocation-queue';
import { configFromEnv } from '../config';
import { announceReady, onShutdown } from '../local/child';
import { ActivationsRepository } from '../store/activations';
import { EntitiesRepository } from '../store/entities';
import { createContainerFactory } from './factory';
import { Invoker } from './invoker';
import { WarmPool } from './warm-pool';

/**
 * Invoker process entry, the same locally and on ECS. Environment: the platform config (see
 * lib/config.ts), `SKYWHISK_INVOKER_ID`, `SKYWHISK_INVOKER_CONCURRENCY`, `SKYWHISK_POLL_WAIT_S`,
 * `SKYWHISK_API_HOST`, `SKYWHISK_IDLE_CONTAINER_MS`, `SKYWHISK_CONTAINER_FACTORY`, `SKYWHISK_SANDBOX`.
 */
async function main(): Promise<void> {
  const log = pino({ name: 'invoker', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' });
  const config = configFromEnv();
  const { dynamo, sqs } = awsClients();
  const invokerId = process.env.SKYWHISK_INVOKER_ID ?? 'invoker0';
  const factory = await createContainerFactory(process.env, invokerId);
  if (factory.name === 'docker') {
    await buildImages(new Docker(), { log: (line) => log.info(line) });
    const removed = await factory.removeOrphans();
    if (removed) log.warn({ removed }, 'removed containers left by an earlier instance of this invoker');
  }
  const invoker = new Invoker(
    {
      id: invokerId,
      instance: `${process.pid}-${Date.now().toString(36)}`,
      maxConcurrent: Number(process.env.SKYWHISK_INVOKER_CONCURRENCY ?? 16),
      pollWaitSeconds: Number(process.env.SKYWHISK_POLL_WAIT_S ?? 20),
      apiHost: process.env.SKYWHISK_API_HOST ?? 'http://127.0.0.1:3233',
    },
    new InvocationQueue(sqs, config.queues.invoke),
    new EntitiesRepository(dynamo, config.tables.entities),
    new ActivationsRepository(dynamo, config.tables.activations, config.activationRetentionDays),
    new WarmPool(factory, Number(process.env.SKYWHISK_IDLE_CONTAINER_MS ?? 600_000)),
    log,
  );
  invoker.start();
  log.info({ factory: factory.describe }, 'invoker started');
  onShutdown(async () => {
    log.info('invoker stopping: finishing activations in flight');
    await invoker.stop();
    factory.dispose();
    log.info('invoker stopped');
  });
  announceReady();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
