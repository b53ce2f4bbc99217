import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { EventBridgeAlarmScheduler, scheduleName } from '../../lib/alarms/eventbridge-scheduler';
import { onScheduledFire, type ScheduledFireDeps } from '../../lib/alarms/scheduled-fire';
import { AlarmsRepository, type Alarm } from '../../lib/alarms/store';
import { configFromEnv } from '../../lib/config';
import { alarmFireCallback } from '../../lib/controller/alarm-fire';
import type { ControllerDeps } from '../../lib/controller/context';
import { depsFromEnv } from '../../lib/controller/deps';
import type { RuleDoc } from '../../lib/model/rules';
import { SubjectsRepository } from '../../lib/store/subjects';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// What the alarm-fire function does when a schedule fires, in process against the real embedded
// DynamoDB and SQS endpoint (its own process), with ControllerDeps from depsFromEnv as the function
// builds them and EventBridge Scheduler mocked: each scheduled time fires the trigger once.

const config = configFromEnv({});
const OWNER = { uuid: 'a1b2c3d4-0000-4000-8000-0000000af1e0', key: 'f'.repeat(64), subject: 'firetest', namespace: 'firetest' };
const GROUP = 'Skywhisk-alarms';
const AWS_ENV = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const savedEnv = Object.fromEntries(AWS_ENV.map((name) => [name, process.env[name]]));
const client = mockClient(SchedulerClient);
const silent = pino({ level: 'silent' });
let endpoint: EmbeddedEndpoint;
let repository: AlarmsRepository;
let controller: ControllerDeps;
let deps: ScheduledFireDeps;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('ALARMFIRETEST');
  // depsFromEnv builds its clients from the SDK's environment, as in Lambda.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
  });
  controller = depsFromEnv({ SKYWHISK_LOG_LEVEL: 'silent' });
  repository = new AlarmsRepository(endpoint.clients.dynamo, config.tables.entities);
  await new SubjectsRepository(endpoint.clients.dynamo, config.tables.subjects).put(OWNER);
  const scheduler = new EventBridgeAlarmScheduler({
    repository,
    scheduler: new SchedulerClient({ region: 'us-east-1' }),
    groupName: GROUP,
    targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:fire',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
  });
  deps = { repository, scheduler, fire: alarmFireCallback(controller, scheduler, silent), log: silent };
});

afterAll(async () => {
  client.restore();
  for (const name of AWS_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  await endpoint?.stop();
});

beforeEach(() => {
  client.reset();
  client.onAnyCommand().resolves({});
});

/** A trigger with one active rule (to an action that need not exist: the trigger activation is recorded either way). */
async function putTriggerWithRule(name: string): Promise<void> {
  const updated = Date.now();
  const ruleName = `${name}-rule`;
  const target = { action: { path: OWNER.namespace, name: 'absent-action' }, status: 'active' as const };
  await controller.entities.put(
    OWNER.namespace,
    'triggers',
    name,
    { namespace: OWNER.namespace, name, version: '0.0.1', publish: false, annotations: [], parameters: [], limits: {}, updated, rules: { [`${OWNER.namespace}/${ruleName}`]: target } },
    `rev-${name}`,
    updated,
  );
  const rule: RuleDoc = {
    namespace: OWNER.namespace,
    name: ruleName,
    version: '0.0.1',
    publish: false,
    annotations: [],
    trigger: { path: OWNER.namespace, name },
    action: target.action,
    updated,
  };
  await controller.entities.put(OWNER.namespace, 'rules', ruleName, rule, `rev-${ruleName}`, updated);
}

function alarm(trigger: string, spec: Alarm['spec'], status: Alarm['status'] = 'active'): Alarm {
  const now = Date.now();
  return { triggerNamespace: OWNER.namespace, triggerName: trigger, ownerUuid: OWNER.uuid, spec, payload: { from: trigger }, status, created: now, updated: now };
}

const event = (trigger: string, scheduledTime: string) => ({ source: 'skywhisk.alarm', namespace: OWNER.namespace, trigger, scheduledTime });
const triggerActivations = (trigger: string) => controller.activations.list(OWNER.namespace, { name: trigger, limit: 50, skip: 0 });

test('a scheduled time fires the trigger once, with the payload, however often Scheduler delivers it', async () => {
  await putTriggerWithRule('hourly');
  await repository.put(alarm('hourly', { feed: 'alarm', cron: '0 * * * *' }));
  const tick = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).toISOString();
  expect(await onScheduledFire(event('hourly', tick), deps)).toBe('fired');
  expect(await onScheduledFire(event('hourly', tick), deps)).toBe('duplicate');
  // Two deliveries at once (a retry racing the first): still one fire.
  const raced = await Promise.all([1, 2].map(() => onScheduledFire(event('hourly', new Date(Date.parse(tick) + 3_600_000).toISOString()), deps)));
  expect(raced.sort()).toEqual(['duplicate', 'fired']);

  const activations = await triggerActivations('hourly');
  expect(activations).toHaveLength(2);
  expect(activations[0]).toMatchObject({ name: 'hourly', subject: OWNER.subject, response: { result: { from: 'hourly' } } });
  expect(await repository.get(OWNER.namespace, 'hourly')).toMatchObject({ lastFired: Date.parse(tick) + 3_600_000, nextFire: Date.parse(tick) + 7_200_000 });
  expect(client.calls()).toHaveLength(0);
});

test('a paused alarm, an alarm that is gone and a malformed event fire nothing', async () => {
  await putTriggerWithRule('paused');
  await repository.put(alarm('paused', { feed: 'interval', minutes: 5, startDate: Date.now() - 60_000 }, 'paused'));
  const now = new Date().toISOString();
  expect(await onScheduledFire(event('paused', now), deps)).toBe('paused');
  expect(await onScheduledFire(event('never-made', now), deps)).toBe('absent');
  for (const malformed of [undefined, 'text', {}, { source: 'aws.events', detail: {} }, { ...event('paused', now), scheduledTime: 'yesterday' }, { ...event('paused', now), namespace: '' }]) {
    expect(await onScheduledFire(malformed, deps)).toBe('dropped');
  }
  expect(await triggerActivations('paused')).toEqual([]);
  expect(await repository.get(OWNER.namespace, 'paused')).not.toHaveProperty('lastFired');
});

test('a once alarm with deleteAfterFire rules: fired, then its trigger, rule, record and schedule are gone', async () => {
  await putTriggerWithRule('one-shot');
  const date = Date.now() + 1000;
  await repository.put(alarm('one-shot', { feed: 'once', date, deleteAfterFire: 'rules' }));
  expect(await onScheduledFire(event('one-shot', new Date(date).toISOString()), deps)).toBe('fired');
  expect(await triggerActivations('one-shot')).toHaveLength(1);
  expect(await controller.entities.get(OWNER.namespace, 'triggers', 'one-shot')).toBeUndefined();
  expect(await controller.entities.get(OWNER.namespace, 'rules', 'one-shot-rule')).toBeUndefined();
  expect(await repository.get(OWNER.namespace, 'one-shot')).toBeUndefined();
  expect(client.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([{ Name: scheduleName(OWNER.namespace, 'one-shot'), GroupName: GROUP }]);
  // Delivered again: nothing left to fire.
  expect(await onScheduledFire(event('one-shot', new Date(date).toISOString()), deps)).toBe('absent');
});

test('an alarm whose trigger is gone is removed with its schedule, firing nothing', async () => {
  await repository.put(alarm('orphan', { feed: 'alarm', cron: '*/5 * * * *' }));
  expect(await onScheduledFire(event('orphan', new Date().toISOString()), deps)).toBe('fired');
  expect(await repository.get(OWNER.namespace, 'orphan')).toBeUndefined();
  expect(client.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  expect(await triggerActivations('orphan')).toEqual([]);
});
