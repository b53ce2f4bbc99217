import type { Context } from 'aws-lambda';
import pino from 'pino';
import { alarmSchedulerFromEnv } from '../../lib/alarms/eventbridge-scheduler';
import { onScheduledFire } from '../../lib/alarms/scheduled-fire';
import { AlarmsRepository } from '../../lib/alarms/store';
import { awsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { alarmFireCallback } from '../../lib/controller/alarm-fire';
import { depsFromEnv } from '../../lib/controller/deps';

const log = pino({ name: 'alarm-fire', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' });
const repository = new AlarmsRepository(awsClients().dynamo, configFromEnv().tables.entities);
const deps = depsFromEnv();

/** EventBridge Scheduler's target: fires the alarm's trigger (lib/alarms/scheduled-fire.ts). */
export async function handler(event: unknown, context: Pick<Context, 'invokedFunctionArn'>): Promise<{ outcome: string }> {
  // This function is the schedules' target; its own ARN is not in its environment (that would be a cycle).
  const scheduler = alarmSchedulerFromEnv(process.env, repository, context.invokedFunctionArn);
  if (!scheduler) throw new Error('SKYWHISK_ALARM_SCHEDULE_GROUP and SKYWHISK_ALARM_ROLE_ARN must be set');
  const outcome = await onScheduledFire(event, { repository, scheduler, fire: alarmFireCallback(deps, scheduler, log), log });
  return { outcome };
}
