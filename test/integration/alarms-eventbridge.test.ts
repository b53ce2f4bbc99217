import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeAlarmScheduler, scheduleName } from '../../lib/alarms/eventbridge-scheduler';
import { AlarmsRepository, type Alarm } from '../../lib/alarms/store';
import type { AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { EntitiesRepository } from '../../lib/store/entities';
import { SubjectsRepository } from '../../lib/store/subjects';
import { AlarmSchedules } from '../../infra/constructs/alarm-schedules';
import { Bus } from '../../infra/constructs/bus';
import { Store } from '../../infra/constructs/store';
import { BundledHandler, removeBundles, synthesizeBundles } from '../helpers/bundled-function';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The alarms feed on AWS against the real embedded DynamoDB and SQS endpoint: the EventBridge
// scheduler keeps the record in the store and one schedule per alarm (Scheduler, AWS's control
// plane, is mocked or a stand-in HTTP endpoint), and the bundled alarm-fire function fires
// triggers when schedules invoke it, at most once per scheduled time.

const config = configFromEnv({});
let endpoint: EmbeddedEndpoint;
let endpointUrl: string;
let clients: AwsClients;
let credentials: EmbeddedEndpoint['credentials'];
let repository: AlarmsRepository;
let entities: EntitiesRepository;
const OWNER = { uuid: 'a1b2c3d4-0000-4000-8000-00000000eb01', key: 'k'.repeat(64), subject: 'ebtest', namespace: 'ebtest' };
const GROUP = 'skywhisk-alarms';

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('ALARMSTEST');
  ({ url: endpointUrl, clients, credentials } = endpoint);
  repository = new AlarmsRepository(clients.dynamo, config.tables.entities);
  entities = new EntitiesRepository(clients.dynamo, config.tables.entities);
  await new SubjectsRepository(clients.dynamo, config.tables.subjects).put(OWNER);
});

afterAll(async () => {
  removeBundles();
  await endpoint?.stop();
});

function alarm(trigger: string, spec: Alarm['spec'], status: Alarm['status'] = 'active'): Alarm {
  const now = Date.now();
  return { triggerNamespace: OWNER.namespace, triggerName: trigger, ownerUuid: OWNER.uuid, spec, payload: { hello: trigger }, status, created: now, updated: now };
}

describe('EventBridgeAlarmScheduler', () => {
  const scheduler = mockClient(SchedulerClient);
  const eventBridge = () =>
    new EventBridgeAlarmScheduler({ repository, scheduler: new SchedulerClient({}), groupName: GROUP, targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:fire', roleArn: 'arn:aws:iam::123456789012:role/scheduler' });
  beforeEach(() => scheduler.reset());
  afterAll(() => scheduler.restore());

  test('create stores the record and makes one schedule that sends the trigger and the scheduled time', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    await eventBridge().create(alarm('weekdays', { feed: 'alarm', cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }));
    expect(await repository.get(OWNER.namespace, 'weekdays')).toMatchObject({ status: 'active', nextFire: expect.any(Number) });
    const [call] = scheduler.commandCalls(CreateScheduleCommand);
    expect(call.args[0].input).toEqual({
      Name: scheduleName(OWNER.namespace, 'weekdays'),
      GroupName: GROUP,
      Description: 'Skywhisk alarm of /ebtest/weekdays',
      ScheduleExpression: 'cron(0 9 ? * 2,3,4,5,6 *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: 'arn:aws:lambda:us-east-1:123456789012:function:fire',
        RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
        Input: JSON.stringify({ source: 'skywhisk.alarm', namespace: 'ebtest', trigger: 'weekdays', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    });
  });

  test('a schedule Scheduler refuses leaves no record behind, and a cron it cannot express writes nothing', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('ValidationException'));
    await expect(eventBridge().create(alarm('refused', { feed: 'interval', minutes: 5, startDate: Date.now() + 60_000 }))).rejects.toThrow('ValidationException');
    expect(await repository.get(OWNER.namespace, 'refused')).toBeUndefined();
    await expect(eventBridge().create(alarm('both-days', { feed: 'alarm', cron: '0 0 1 * 1' }))).rejects.toMatchObject({ status: 400 });
    expect(await repository.get(OWNER.namespace, 'both-days')).toBeUndefined();
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
  });

  test('pause disables the schedule, resume enables it, a missing schedule is made again, delete removes both', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const events = eventBridge();
    await events.create(alarm('pausable', { feed: 'interval', minutes: 1, startDate: Date.now() + 60_000 }));
    scheduler.on(UpdateScheduleCommand).resolves({});
    expect(await events.setStatus(OWNER.namespace, 'pausable', 'paused')).toMatchObject({ status: 'paused' });
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0].args[0].input).toMatchObject({ State: 'DISABLED', ScheduleExpression: 'rate(1 minute)' });
    scheduler.on(UpdateScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    await events.setStatus(OWNER.namespace, 'pausable', 'active');
    expect(scheduler.commandCalls(CreateScheduleCommand).at(-1)!.args[0].input).toMatchObject({ State: 'ENABLED', Name: scheduleName(OWNER.namespace, 'pausable') });
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    expect(await events.delete(OWNER.namespace, 'pausable')).toBe(true);
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0].args[0].input).toEqual({ Name: scheduleName(OWNER.namespace, 'pausable'), GroupName: GROUP });
    expect(await repository.get(OWNER.namespace, 'pausable')).toBeUndefined();
  });
});

describe('the bundled alarm-fire function', () => {
  let handler: BundledHandler;
  let schedulerStandIn: Server;
  const schedulerCalls: string[] = [];

  beforeAll(async () => {
    const [bundle, ...others] = synthesizeBundles((stack) => {
      new AlarmSchedules(stack, 'Alarms', { store: new Store(stack, 'Store'), bus: new Bus(stack, 'Bus') });
    });
    expect(others).toHaveLength(0);
    schedulerStandIn = createServer((request, response) => {
      const url = new URL(request.url!, 'http://scheduler');
      schedulerCalls.push(`${request.method} ${url.pathname} in ${url.searchParams.get('groupName')}`);
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((listening) => schedulerStandIn.listen(0, '127.0.0.1', listening));
    handler = new BundledHandler(bundle, {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: endpointUrl,
      AWS_ENDPOINT_URL_SCHEDULER: `http://127.0.0.1:${(schedulerStandIn.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_LAMBDA_FUNCTION_NAME: 'fire',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SKYWHISK_LOG_LEVEL: 'warn',
      SKYWHISK_ALARM_SCHEDULE_GROUP: GROUP,
      SKYWHISK_ALARM_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
    });
  }, 60_000);

  afterAll(() => {
    handler?.stop();
    schedulerStandIn?.close();
  });

  const fire = (trigger: string, scheduledTime: string) => handler.invoke<{ outcome: string }>({ source: 'skywhisk.alarm', namespace: OWNER.namespace, trigger, scheduledTime });

  async function putTrigger(name: string): Promise<void> {
    const updated = Date.now();
    await entities.put(OWNER.namespace, 'triggers', name, { namespace: OWNER.namespace, name, version: '0.0.1', publish: false, annotations: [], parameters: [], limits: {}, updated }, `rev-${name}`, updated);
  }

  test('a scheduled time fires once however often Scheduler delivers it; a paused alarm and a malformed event fire nothing', async () => {
    await putTrigger('hourly');
    await repository.put(alarm('hourly', { feed: 'alarm', cron: '0 * * * *' }));
    const tick = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000).toISOString();
    expect(await fire('hourly', tick)).toEqual({ outcome: 'fired' });
    expect(await fire('hourly', tick)).toEqual({ outcome: 'duplicate' });
    expect(await repository.get(OWNER.namespace, 'hourly')).toMatchObject({ lastFired: Date.parse(tick), nextFire: Date.parse(tick) + 3_600_000 });

    await repository.put(alarm('paused', { feed: 'alarm', cron: '0 * * * *' }, 'paused'));
    expect(await fire('paused', tick)).toEqual({ outcome: 'paused' });
    expect(await handler.invoke({ source: 'aws.events', detail: {} })).toEqual({ outcome: 'dropped' });
    expect(await fire('never-made', tick)).toEqual({ outcome: 'absent' });
  });

  test('a once alarm with deleteAfterFire removes the trigger, the record and its schedule', async () => {
    await putTrigger('one-shot');
    const date = Date.now() + 1000;
    await repository.put(alarm('one-shot', { feed: 'once', date, deleteAfterFire: 'true' }));
    expect(await fire('one-shot', new Date(date).toISOString())).toEqual({ outcome: 'fired' });
    expect(await entities.get(OWNER.namespace, 'triggers', 'one-shot')).toBeUndefined();
    expect(await repository.get(OWNER.namespace, 'one-shot')).toBeUndefined();
    expect(schedulerCalls).toEqual([`DELETE /schedules/${scheduleName(OWNER.namespace, 'one-shot')} in ${GROUP}`]);
  });
});
