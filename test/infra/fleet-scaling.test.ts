import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bus } from '../../infra/constructs/bus';
import { InvokerFleet, type InvokerMode } from '../../infra/constructs/invoker-fleet';
import { RuntimeImages } from '../../infra/constructs/runtime-images';
import { Store } from '../../infra/constructs/store';
import { alarmEntries, alarmStates, type AlarmProperties, type Series } from '../helpers/alarm-math';

// How the invoker fleet goes back to its minimum: the idle alarm's math, driven with synthetic
// metric series through the synthesized alarm itself, and the sleeper the alarm's change runs.

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function synth(mode: InvokerMode = 'fargate'): { template: Template; stack: Stack; fleet: InvokerFleet } {
  const outdir = mkdtempSync(join(tmpdir(), 'skywhisk-scaling-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const store = new Store(stack, 'Store');
  const bus = new Bus(stack, 'Bus');
  const images = new RuntimeImages(stack, 'Images', { actionRuntimes: mode === 'ec2' });
  const fleet = new InvokerFleet(stack, 'Invokers', { mode, store, bus, images, apiHost: 'https://api.example.com/prod' });
  return { template: Template.fromStack(stack), stack, fleet };
}

const { template, stack, fleet } = synth();

function idleAlarm(): AlarmProperties & { AlarmActions?: unknown[] } {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: AlarmProperties & { AlarmActions?: unknown[] } }>;
  const idle = alarms.filter((alarm) => alarm.Properties.ComparisonOperator === 'LessThanOrEqualToThreshold');
  expect(idle).toHaveLength(1);
  return idle[0].Properties;
}

/** Every minute the same value, or `undefined` (nothing published). */
const steady = (minutes: number, value: number | undefined) => Array.from({ length: minutes }, () => value);
const HOUR = 60;

describe('the idle alarm, driven through its synthesized math', () => {
  const alarm = idleAlarm();
  const rows: Array<[string, Series, number[]]> = [
    [
      'one short request a second, all by direct dispatch (the queue stays empty): the fleet never sleeps',
      { visible: steady(HOUR, 0), inFlight: steady(HOUR, 0), started: steady(HOUR, 60), running: steady(HOUR, 1) },
      [],
    ],
    [
      'one request every ten minutes: the fleet never sleeps',
      { visible: steady(HOUR, 0), inFlight: steady(HOUR, 0), started: Array.from({ length: HOUR }, (_, m) => (m % 10 === 0 ? 1 : 0)), running: steady(HOUR, 0) },
      [],
    ],
    [
      'the last request at minute 5, then nothing: it sleeps at the fifteenth idle minute, once',
      { visible: steady(HOUR, 0), inFlight: steady(HOUR, 0), started: Array.from({ length: HOUR }, (_, m) => (m <= 5 ? 3 : 0)), running: steady(HOUR, 0) },
      [20],
    ],
    [
      'one activation running for 40 minutes and nothing else: the fleet stays up until it ends',
      { visible: steady(HOUR, 0), inFlight: steady(HOUR, 0), started: Array.from({ length: HOUR }, (_, m) => (m === 0 ? 1 : 0)), running: Array.from({ length: HOUR }, (_, m) => (m < 40 ? 1 : 0)) },
      [54],
    ],
    [
      'no invoker running and a queue that stopped publishing (no data at all): it sleeps',
      { visible: steady(HOUR, undefined), inFlight: steady(HOUR, undefined), started: steady(HOUR, undefined), running: steady(HOUR, undefined) },
      [14],
    ],
    [
      'a message waiting while the fleet is at zero (no invoker metrics): not idle',
      { visible: steady(HOUR, 1), inFlight: steady(HOUR, 0), started: steady(HOUR, undefined), running: steady(HOUR, undefined) },
      [],
    ],
    [
      'a fleet woken at minute 30 by one request after sleeping: one sleep, and the wake is not undone while the alarm stays in ALARM',
      { visible: Array.from({ length: HOUR }, (_, m) => (m === 30 ? 1 : 0)), inFlight: steady(HOUR, 0), started: Array.from({ length: HOUR }, (_, m) => (m === 32 ? 1 : undefined)), running: steady(HOUR, undefined) },
      [14, 47],
    ],
  ];
  test.each(rows)('%s', (_, series, sleepsAt) => {
    expect(alarmEntries(alarmStates(alarm, series, HOUR))).toEqual(sleepsAt);
  });

  test('it reads the invokers’ own activity metrics of this fleet and the queue’s counts', () => {
    const metrics = alarm.Metrics as Array<{ Id: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown[] }; Stat: string } }>;
    const byId = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat!]));
    expect(byId.started).toMatchObject({ Metric: { Namespace: 'Skywhisk', MetricName: 'ActivationsStarted' }, Stat: 'Sum' });
    expect(byId.running).toMatchObject({ Metric: { Namespace: 'Skywhisk', MetricName: 'ActivationsInFlight' }, Stat: 'Maximum' });
    expect(byId.visible.Metric).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
    expect(byId.inFlight.Metric).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesNotVisible' });
    // The dimension is the fleet name the invokers are given.
    const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }>;
    const fleetName = definition.Properties.ContainerDefinitions[0].Environment.find((e) => e.Name === 'SKYWHISK_FLEET_METRICS')?.Value;
    expect(fleetName).toEqual(expect.stringMatching(/^TestInvokers/));
    expect(byId.started.Metric.Dimensions).toEqual([{ Name: 'Fleet', Value: fleetName }]);
    expect(byId.running.Metric.Dimensions).toEqual([{ Name: 'Fleet', Value: fleetName }]);
  });

  test('it has no scaling action of its own (one would run again every minute in ALARM and undo a wake)', () => {
    expect(alarm.AlarmActions ?? []).toEqual([]);
  });
});

describe('the fleet sleeper', () => {
  test('an EventBridge rule runs it when the idle alarm changes into ALARM, retried twice', () => {
    const [alarmId] = Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { ComparisonOperator: 'LessThanOrEqualToThreshold' } }));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: [{ 'Fn::GetAtt': [alarmId, 'Arn'] }],
        detail: { state: { value: ['ALARM'] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InvokersSleeperFunction'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
  });

  test('a schedule runs it every 5 minutes too, so a look that found the fleet busy is repeated', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InvokersSleeperFunction'), 'Arn'] } })],
    });
  });

  test('it is told the cluster, the service and the minimum, and may only read and set the service’s count, read the queue’s counts and query the coordination table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SKYWHISK_INVOKER_CLUSTER: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InvokersCluster'), 'Arn'] },
          SKYWHISK_INVOKER_SERVICE: 'invokers-fargate',
          SKYWHISK_FLEET_MIN_TASKS: '0',
          SKYWHISK_FLEET_IDLE_MINUTES: '15',
        }),
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^InvokersSleeperFunctionServiceRole') }] } })) as Array<{
      Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } };
    }>;
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement.map((statement) => ({ actions: [statement.Action].flat(), resource: statement.Resource }));
    expect(statements).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: { 'Fn::GetAtt': [expect.stringMatching(/^InvokersSleeperLogs/), 'Arn'] } },
      { actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resource: stack.resolve(fleet.serviceArn) },
      { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resource: { 'Fn::GetAtt': [expect.stringMatching(/^BusInvocations/), 'Arn'] } },
      { actions: ['dynamodb:Query'], resource: { 'Fn::GetAtt': [expect.stringMatching(/^StoreCoordination/), 'Arn'] } },
    ]);
  });

  test('with a minimum of two, the sleeper takes the fleet back to two', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'skywhisk-scaling-test-'));
    outdirs.push(outdir);
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    new InvokerFleet(stack, 'Invokers', {
      mode: 'fargate',
      store: new Store(stack, 'Store'),
      bus: new Bus(stack, 'Bus'),
      images: new RuntimeImages(stack, 'Images', { actionRuntimes: false }),
      apiHost: 'https://api.example.com/prod',
      minTasks: 2,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SKYWHISK_FLEET_MIN_TASKS: '2' }) } });
  });

  test('its bundle loads with the settings the stack gives it and ignores an event that is neither the alarm entering ALARM nor its schedule', async () => {
    const root = resolve(__dirname, '../..');
    const outdir = mkdtempSync(join(tmpdir(), 'skywhisk-sleeper-bundle-'));
    outdirs.push(outdir);
    const outfile = join(outdir, 'handler.js');
    buildSync({ entryPoints: [resolve(root, 'functions/fleet-sleeper/handler.ts')], absWorkingDir: root, bundle: true, platform: 'node', outfile, logLevel: 'silent' });
    const settings = { SKYWHISK_INVOKER_CLUSTER: 'arn:aws:ecs:us-east-1:123456789012:cluster/c', SKYWHISK_INVOKER_SERVICE: 's', SKYWHISK_FLEET_MIN_TASKS: '0', SKYWHISK_FLEET_IDLE_MINUTES: '15', AWS_REGION: 'us-east-1', SKYWHISK_LOG_LEVEL: 'silent' };
    const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
    Object.assign(process.env, settings);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { handler } = require(outfile) as { handler: (event: unknown) => Promise<{ outcome: string }> };
      expect(await handler({ source: 'aws.cloudwatch', detail: { state: { value: 'OK' } } })).toEqual({ outcome: 'ignored' });
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
