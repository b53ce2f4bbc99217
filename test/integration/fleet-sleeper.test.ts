import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { InvocationQueue } from '../../lib/bus/invocation-queue';
import { configFromEnv } from '../../lib/config';
import { isSleeperEvent, sleepIdleFleet, sleeperSettingsFromEnv, type FleetSleeperDeps } from '../../lib/fleet/sleeper';
import { InvokerRegistry, type InvokerReport } from '../../lib/store/invoker-registry';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The fleet sleeper against the real queue and invoker registry (the embedded endpoint), with ECS
// mocked (its control plane cannot run here): it scales an idle fleet in, and leaves alone a fleet
// woken a moment ago, with work waiting or running, or that started something lately.

const config = configFromEnv({});
const ecsMock = mockClient(ECSClient);
let endpoint: EmbeddedEndpoint;
let deps: FleetSleeperDeps;
let registry: InvokerRegistry;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('fleet-sleeper');
  registry = new InvokerRegistry(endpoint.clients.dynamo, config.tables.coordination, 10_000, 60_000);
  deps = {
    ecs: new ECSClient({ region: 'us-east-1' }),
    cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/skywhisk',
    service: 'invokers',
    minTasks: 0,
    idleMs: 15 * 60_000,
    queue: new InvocationQueue(endpoint.clients.sqs, config.queues.invoke),
    registry,
    log: pino({ level: 'silent' }),
  };
}, 60_000);

afterAll(async () => {
  ecsMock.restore();
  await endpoint?.stop();
});

beforeEach(() => ecsMock.reset().onAnyCommand().rejects(new Error('unexpected ECS call')));

function service(desiredCount: number | undefined, runningCount = desiredCount ?? 0, pendingCount = 0) {
  ecsMock.on(DescribeServicesCommand, { cluster: deps.cluster, services: ['invokers'] }).resolves({ services: desiredCount === undefined ? [] : [{ desiredCount, runningCount, pendingCount }] });
  ecsMock.on(UpdateServiceCommand).resolves({});
}

const updates = () => ecsMock.commandCalls(UpdateServiceCommand).map((call) => call.args[0].input);
const LONG_AGO = Date.now() - 60 * 60_000;
const report = (id: string, inFlight: number, state: InvokerReport['state'] = 'up', times: Partial<Pick<InvokerReport, 'startedAt' | 'lastStartedAt'>> = {}): InvokerReport => ({
  id,
  instance: '1',
  startedAt: LONG_AGO,
  state,
  inFlight,
  factory: 'test',
  ...times,
});

test('an idle fleet of one goes back to its minimum, in one UpdateService', async () => {
  service(1);
  expect(await sleepIdleFleet(deps)).toBe('scaled in');
  expect(updates()).toEqual([{ cluster: deps.cluster, service: 'invokers', desiredCount: 0 }]);
});

test('with a minimum of two, a fleet of three goes back to two; one at two is left alone', async () => {
  service(3);
  expect(await sleepIdleFleet({ ...deps, minTasks: 2 })).toBe('scaled in');
  expect(updates()).toEqual([{ cluster: deps.cluster, service: 'invokers', desiredCount: 2 }]);
  ecsMock.resetHistory();
  service(2);
  expect(await sleepIdleFleet({ ...deps, minTasks: 2 })).toBe('at minimum');
  expect(updates()).toEqual([]);
});

test('a fleet woken a moment ago (no task running yet) is left to start; one short of capacity (some tasks pending for good) is not', async () => {
  service(1, 0, 1);
  expect(await sleepIdleFleet(deps)).toBe('starting');
  expect(updates()).toEqual([]);
  service(4, 2, 2);
  expect(await sleepIdleFleet(deps)).toBe('scaled in');
  expect(updates()).toEqual([{ cluster: deps.cluster, service: 'invokers', desiredCount: 0 }]);
});

test('an invoker that started an activation, or was itself started, within the idle time keeps the fleet up for that long', async () => {
  service(1);
  await registry.heartbeat(report('recent-work', 0, 'up', { lastStartedAt: Date.now() - 5 * 60_000 }));
  expect(await sleepIdleFleet(deps)).toBe('recently active');
  await registry.heartbeat(report('recent-work', 0, 'stopped'));
  await registry.heartbeat(report('just-woken', 0, 'up', { startedAt: Date.now() - 60_000 }));
  expect(await sleepIdleFleet(deps)).toBe('recently active');
  expect(updates()).toEqual([]);
  await registry.heartbeat(report('just-woken', 0, 'stopped'));
  // Its last activation 20 minutes ago: idle.
  await registry.heartbeat(report('quiet', 0, 'up', { lastStartedAt: Date.now() - 20 * 60_000 }));
  expect(await sleepIdleFleet(deps)).toBe('scaled in');
  await registry.heartbeat(report('quiet', 0, 'stopped'));
});

test('a message waiting in the queue keeps the fleet up', async () => {
  service(1);
  const { QueueUrl } = await endpoint.clients.sqs.send(new GetQueueUrlCommand({ QueueName: config.queues.invoke }));
  await endpoint.clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{}' }));
  try {
    expect(await sleepIdleFleet(deps)).toBe('queue not empty');
    expect(updates()).toEqual([]);
  } finally {
    const { Messages } = await endpoint.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    for (const message of Messages ?? []) await endpoint.clients.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
  }
});

test('an invoker reporting activations in flight keeps the fleet up (the metrics lag), a silent one within its lease too; one past its lease does not', async () => {
  service(1);
  await registry.heartbeat(report('busy', 2));
  expect(await sleepIdleFleet(deps)).toBe('invokers busy');
  expect(updates()).toEqual([]);
  await registry.heartbeat(report('busy', 0, 'stopped'));
  // Stalled 30 s (offline to the scheduler) but within its 60 s lease: it may still run them.
  await registry.heartbeat(report('silent', 3), Date.now() - 30_000);
  expect(await sleepIdleFleet(deps)).toBe('invokers busy');
  await registry.heartbeat(report('silent', 3), Date.now() - 90_000);
  expect(await sleepIdleFleet(deps)).toBe('scaled in');
  await registry.heartbeat(report('silent', 0, 'stopped'));
});

test('a service that is not there is reported, and nothing is set', async () => {
  service(undefined);
  expect(await sleepIdleFleet(deps)).toBe('service not found');
  expect(updates()).toEqual([]);
});

test.each([
  ['the idle alarm entering ALARM', true, { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { state: { value: 'ALARM' } } }],
  ['its schedule', true, { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }],
  ['the alarm going back to OK', false, { source: 'aws.cloudwatch', detail: { state: { value: 'OK' } } }],
  ['an event from elsewhere', false, { source: 'aws.ecs', detail: { state: { value: 'ALARM' } } }],
  ['no event at all', false, undefined],
])('the handler, given %s, acts: %s', (_, acts, event) => {
  expect(isSleeperEvent(event)).toBe(acts);
});

test('its settings are checked at start, each bad one named', () => {
  expect(sleeperSettingsFromEnv({ SKYWHISK_INVOKER_CLUSTER: 'c', SKYWHISK_INVOKER_SERVICE: 's', SKYWHISK_FLEET_MIN_TASKS: '1', SKYWHISK_FLEET_IDLE_MINUTES: '15' })).toEqual({
    cluster: 'c',
    service: 's',
    minTasks: 1,
    idleMs: 900_000,
  });
  expect(() => sleeperSettingsFromEnv({ SKYWHISK_INVOKER_CLUSTER: 'c', SKYWHISK_FLEET_MIN_TASKS: 'x' })).toThrow(/SKYWHISK_INVOKER_SERVICE.*SKYWHISK_FLEET_MIN_TASKS|SKYWHISK_FLEET_MIN_TASKS.*SKYWHISK_INVOKER_SERVICE/);
});
