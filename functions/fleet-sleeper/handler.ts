import { ECSClient } from '@aws-sdk/client-ecs';
import pino from 'pino';
import { awsClients } from '../../lib/aws-clients';
import { InvocationQueue } from '../../lib/bus/invocation-queue';
import { configFromEnv } from '../../lib/config';
import { isSleeperEvent, sleepIdleFleet, sleeperSettingsFromEnv, type SleepOutcome } from '../../lib/fleet/sleeper';
import { DEFAULT_OFFLINE_AFTER_MS, InvokerRegistry } from '../../lib/store/invoker-registry';

const log = pino({ name: 'fleet-sleeper', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' });
const settings = sleeperSettingsFromEnv(process.env);
const config = configFromEnv();
const { dynamo, sqs } = awsClients();
const deps = {
  ...settings,
  ecs: new ECSClient({}),
  queue: new InvocationQueue(sqs, config.queues.invoke),
  registry: new InvokerRegistry(dynamo, config.tables.coordination, DEFAULT_OFFLINE_AFTER_MS),
  log,
};

/** The target of the EventBridge rules on the idle alarm's change into ALARM and on a schedule (lib/fleet/sleeper.ts). */
export async function handler(event: unknown): Promise<{ outcome: SleepOutcome | 'ignored' }> {
  if (!isSleeperEvent(event)) return { outcome: 'ignored' };
  return { outcome: await sleepIdleFleet(deps) };
}
