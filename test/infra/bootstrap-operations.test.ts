import { alarmsPackage } from '../../lib/alarms/package';
import { standardCatalog } from '../../lib/catalog/standard';
import { systemPackagesDigest } from '../../lib/catalog/system-packages';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Bootstrap } from '../../infra/constructs/bootstrap';
import { Operations } from '../../infra/constructs/operations';
import { alarmEntries, alarmStates, type AlarmProperties } from '../helpers/alarm-math';
import { Store } from '../../infra/constructs/store';
import { dataLayerStack, standInController } from '../helpers/infra';

// The Bootstrap and Operations constructs: what they create, what they grant, and that cdk-nag's
// AwsSolutions checks find nothing unacknowledged in them.

function build(): { app: App; stack: Stack } {
  // GIVEN an app that skips bundling (no esbuild run in these tests)
  const { app, stack, store } = dataLayerStack();
  const controller = standInController(stack);
  // WHEN
  new Bootstrap(stack, 'Bootstrap', { subjectsTable: store.subjects, entitiesTable: store.entities, apiHost: 'https://api.example.com/prod' });
  new Operations(stack, 'Operations', {
    fleetName: 'TestFleet',
    controller,
    invokerLogGroup: new LogGroup(stack, 'InvokerLogs'),
    invokerClusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/invokers',
  });
  return { app, stack };
}

test('a change to any system package changes the digest the bootstrap resource carries, so a deploy reinstalls them', () => {
  const packages = [alarmsPackage(), ...standardCatalog()];
  const digest = systemPackagesDigest(packages);
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  const [first, ...rest] = structuredClone(packages);
  const changed = { ...first, actions: first.actions.map((a, i) => (i === 0 ? { ...a, exec: { ...a.exec, code: `${a.exec.code}\n// v2` } } : a)) };
  expect(systemPackagesDigest([changed, ...rest])).not.toBe(digest);
  expect(systemPackagesDigest(structuredClone(packages))).toBe(digest);
});

test('Bootstrap generates the guest key into Secrets Manager, never into the template, and installs it with a custom resource', () => {
  const template = Template.fromStack(build().stack);
  // THEN
  template.hasResourceProperties('AWS::SecretsManager::Secret', {
    GenerateSecretString: { GenerateStringKey: 'key', PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false, SecretStringTemplate: Match.stringLikeRegexp('^\\{"uuid":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}"\\}$') },
  });
  template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Architectures: ['arm64'], Environment: { Variables: Match.objectLike({ SKYWHISK_SUBJECTS_TABLE: Match.anyValue() }) } });
  template.resourceCountIs('AWS::CloudFormation::CustomResource', 1);
  template.hasResourceProperties('AWS::CloudFormation::CustomResource', { Namespace: 'guest', SecretArn: Match.anyValue(), SystemPackages: systemPackagesDigest([alarmsPackage(), ...standardCatalog()]) });
  // The bootstrap function may read the secret and write subjects: exactly these actions.
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow' }),
        Match.objectLike({ Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreSubjects'), 'Arn'] }, Match.anyValue()] }),
      ]),
    },
  });
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  expect(Object.keys(outputs).some((name) => name.includes('WskPropertySet'))).toBe(true);
});

test('Bootstrap refuses an invalid namespace', () => {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad');
  const store = new Store(stack, 'Store');
  expect(() => new Bootstrap(stack, 'Bootstrap', { subjectsTable: store.subjects, entitiesTable: store.entities, apiHost: 'https://x', namespace: '-bad' })).toThrow(/not a valid namespace/);
});

test('Operations alarms on dead letters, controller errors and invoker error lines, through one encrypted TLS-only topic', () => {
  const template = Template.fromStack(build().stack);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 });
  // New dead letters as the invokers record them.
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    Namespace: 'Skywhisk',
    MetricName: 'DeadLettersRecorded',
    Dimensions: [{ Name: 'Fleet', Value: 'TestFleet' }],
    Statistic: 'Sum',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
  template.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: '{ $.level >= 50 }', MetricTransformations: [Match.objectLike({ MetricName: 'InvokerErrors' })] });
  template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.ecs'], 'detail-type': ['ECS Task State Change'] }) });
});

describe('the dead-letter alarm, driven through its synthesized math (5-minute periods)', () => {
  const template = Template.fromStack(build().stack);
  type Alarm = { Properties: { MetricName?: string; Namespace?: string; Threshold: number; ComparisonOperator: AlarmProperties['ComparisonOperator']; EvaluationPeriods: number; TreatMissingData: 'notBreaching' } };
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
  /** A single-metric alarm as the helper takes it: its metric as id `m`. */
  const asMath = (name: string): AlarmProperties => {
    const found = alarms.find((a) => a.Properties.MetricName === name)!.Properties;
    return { ...found, Metrics: [{ Id: 'expr', Expression: 'm' }, { Id: 'm', MetricStat: {} }] };
  };
  const DAY = 288;
  const pointsAt = (periods: number, at: Record<number, number>, otherwise: number | undefined) => Array.from({ length: periods }, (_, i) => at[i] ?? otherwise);
  test.each<[string, string, Array<number | undefined>, number[]]>([
    ['one dead letter on day one (kept for operators), another on day three: told twice', 'DeadLettersRecorded', pointsAt(3 * DAY, { 10: 1, [2 * DAY + 5]: 1 }, undefined), [10, 2 * DAY + 5]],
    ['three at once: told once', 'DeadLettersRecorded', pointsAt(DAY, { 40: 3 }, undefined), [40]],
  ])('%s', (_, metric, points, toldAt) => {
    expect(alarmEntries(alarmStates(asMath(metric), { m: points }, points.length))).toEqual(toldAt);
  });
});

test('only this account’s alarms may use the alerts key and topic, and EventBridge publishes through a role of its own', () => {
  const template = Template.fromStack(build().stack);
  const fromOwnAlarms = {
    StringEquals: { 'aws:SourceAccount': '123456789012' },
    ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-east-1:123456789012:alarm:*']] } },
  };
  type Statement = { Principal?: { Service?: string }; Condition?: unknown; Effect: string; Action: string | string[] };
  const [key] = Object.values(template.findResources('AWS::KMS::Key')) as Array<{ Properties: { KeyPolicy: { Statement: Statement[] } } }>;
  const [topicPolicy] = Object.values(template.findResources('AWS::SNS::TopicPolicy')) as Array<{ Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  const services = (statements: Statement[]) => statements.filter((statement) => statement.Effect === 'Allow' && statement.Principal?.Service);
  // No service principal is trusted without a condition, and EventBridge is trusted by neither policy.
  expect(services(key.Properties.KeyPolicy.Statement)).toEqual([expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: fromOwnAlarms })]);
  expect(services(topicPolicy.Properties.PolicyDocument.Statement)).toEqual([
    expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: fromOwnAlarms }),
  ]);
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: Match.objectLike({ source: ['aws.ecs'] }),
    Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^OperationsAlerts') }, RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OperationsAlertsPublisher'), 'Arn'] } })],
  });
  template.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:123456789012:rule/*']] } } },
        }),
      ],
    },
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^OperationsAlertsPublisher') }],
    PolicyDocument: {
      Statement: [
        { Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('^OperationsAlerts') } },
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OperationsAlertsKey'), 'Arn'] } },
      ],
    },
  });
});

test('cdk-nag AwsSolutions finds nothing unacknowledged in Bootstrap and Operations', () => {
  const { app } = build();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
