import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DeleteMessageCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { InvocationQueue } from '../../lib/bus/invocation-queue';
import { configFromEnv } from '../../lib/config';
import { isAlarmEntered, sleepIdleFleet, sleeperSettingsFromEnv, type FleetSleeperDeps } from '../../lib/fleet/sleeper';
import { InvokerRegistry, type InvokerReport } from '../../lib/store/invoker-registry';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The fleet sleeper against the real queue and invoker registry (the embedded endpoint), with ECS
// mocked (its control plane cannot run here): it scales an idle fleet in once, and leaves alone a
// fleet that is starting, has work waiting, or has work running.

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
const report = (id: string, inFlight: number, state: InvokerReport['state'] = 'up'): InvokerReport => ({ id, instance: '1', startedAt: Date.now(), state, inFlight, factory: 'test' });

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

test('a fleet woken a moment ago (its task still starting) is left to start', async () => {
  service(1, 0, 1);
  expect(await sleepIdleFleet(deps)).toBe('starting');
  service(2, 1, 0);
  expect(await sleepIdleFleet(deps)).toBe('starting');
  expect(updates()).toEqual([]);
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

test('an invoker reporting activations in flight keeps the fleet up (the metrics lag); a silent one’s stale report does not', async () => {
  service(1);
  await registry.heartbeat(report('busy', 2));
  expect(await sleepIdleFleet(deps)).toBe('invokers busy');
  expect(updates()).toEqual([]);
  await registry.heartbeat(report('busy', 0, 'stopped'));
  await registry.heartbeat(report('silent', 3), Date.now() - 30_000);
  expect(await sleepIdleFleet(deps)).toBe('scaled in');
});

test('a service that is not there is reported, and nothing is set', async () => {
  service(undefined);
  expect(await sleepIdleFleet(deps)).toBe('service not found');
  expect(updates()).toEqual([]);
});

test.each([
  ['the idle alarm entering ALARM', true, { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { state: { value: 'ALARM' } } }],
  ['the alarm going back to OK', false, { source: 'aws.cloudwatch', detail: { state: { value: 'OK' } } }],
  ['an event from elsewhere', false, { source: 'aws.ecs', detail: { state: { value: 'ALARM' } } }],
  ['no event at all', false, undefined],
])('the handler, given %s, acts: %s', (_, acts, event) => {
  expect(isAlarmEntered(event)).toBe(acts);
});

test('its settings are checked at start, each bad one named', () => {
  expect(sleeperSettingsFromEnv({ SKYWHISK_INVOKER_CLUSTER: 'c', SKYWHISK_INVOKER_SERVICE: 's', SKYWHISK_FLEET_MIN_TASKS: '1' })).toEqual({ cluster: 'c', service: 's', minTasks: 1 });
  expect(() => sleeperSettingsFromEnv({ SKYWHISK_INVOKER_CLUSTER: 'c', SKYWHISK_FLEET_MIN_TASKS: 'x' })).toThrow(/SKYWHISK_INVOKER_SERVICE.*SKYWHISK_FLEET_MIN_TASKS|SKYWHISK_FLEET_MIN_TASKS.*SKYWHISK_INVOKER_SERVICE/);
});
