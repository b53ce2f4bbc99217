import { resolve } from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildSync } from 'esbuild';
import { AlarmSchedules } from '../../infra/constructs/alarm-schedules';
import { dataLayerStack, standInController } from '../helpers/infra';

// The AlarmSchedules construct: the schedule group, the fire function, the role Scheduler assumes,
// and what a controller given grantManage may do.

function build(): { app: App; template: Template } {
  // GIVEN an app that skips bundling, with the data layer and a stand-in controller
  const { app, stack, store, bus } = dataLayerStack();
  const controller = standInController(stack);
  // WHEN
  const alarms = new AlarmSchedules(stack, 'Alarms', { store, bus });
  alarms.grantManage(controller);
  return { app, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource?: unknown; Condition?: unknown };

function statementsOf(template: Template, policyPrefix: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyName: string; PolicyDocument: { Statement: Statement[] } } }>;
  return policies.filter((p) => JSON.stringify(p.Properties.PolicyName).startsWith(`"${policyPrefix}`)).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

test('one schedule group, named after the stack', () => {
  const { template } = build();
  template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
  template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Test-alarms' });
});

test('the fire function runs nodejs22.x on arm64 and only Scheduler, from this account, may invoke it', () => {
  const { template } = build();
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    Environment: { Variables: Match.objectLike({ SKYWHISK_ALARM_SCHEDULE_GROUP: Match.anyValue(), SKYWHISK_ALARM_ROLE_ARN: Match.anyValue(), SKYWHISK_ENTITIES_TABLE: Match.anyValue() }) },
  });
  template.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }],
    },
  });
  expect(statementsOf(template, 'AlarmsSchedulerRole').map((s) => s.Action)).toEqual(['lambda:InvokeFunction']);
  const fire = statementsOf(template, 'AlarmsFireFunction').map((s) => [s.Action].flat());
  expect(fire).toContainEqual(['scheduler:DeleteSchedule']);
  expect(fire).toContainEqual(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']);
});

test('grantManage names the group, target and role to the controller and grants exactly schedule management and passing that role', () => {
  const { template } = build();
  template.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'index.handler',
    Environment: { Variables: { SKYWHISK_ALARM_SCHEDULE_GROUP: Match.anyValue(), SKYWHISK_ALARM_TARGET_ARN: Match.anyValue(), SKYWHISK_ALARM_ROLE_ARN: Match.anyValue() } },
  });
  const controller = statementsOf(template, 'StandInController');
  expect(controller.map((s) => [s.Action].flat().sort())).toEqual([['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'], ['scheduler:DeleteSchedule'], ['iam:PassRole']]);
  expect(controller[2].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
});

const GROUP_SCHEDULES = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:us-east-1:123456789012:schedule/Test-alarms/*']] };

test('the fire function may only delete schedules of the group (a fired once alarm), never make them or pass the role', () => {
  const { template } = build();
  const scheduling = statementsOf(template, 'AlarmsFireFunction').filter((s) => /scheduler:|iam:/.test(JSON.stringify(s.Action)));
  expect(scheduling).toEqual([{ Action: 'scheduler:DeleteSchedule', Effect: 'Allow', Resource: GROUP_SCHEDULES }]);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Architectures: ['arm64'],
    Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps', SKYWHISK_ALARM_SCHEDULE_GROUP: 'Test-alarms' }) },
    LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^AlarmsLogs') } },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  expect(statementsOf(template, 'AlarmsSchedulerRole')[0].Resource).toEqual([
    { 'Fn::GetAtt': [expect.stringMatching(/^AlarmsFireFunction/), 'Arn'] },
    { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^AlarmsFireFunction/), 'Arn'] }, ':*']] },
  ]);
});

test("the controller's schedule grants are on the group's schedules only, and it passes the Scheduler role to Scheduler only", () => {
  const { template } = build();
  const controller = statementsOf(template, 'StandInController');
  expect(controller.slice(0, 2).map((s) => s.Resource)).toEqual([GROUP_SCHEDULES, GROUP_SCHEDULES]);
  expect(controller[2].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AlarmsSchedulerRole/), 'Arn'] });
});

test('the fire function bundle needs no file beside it: its code does not reach lib/alarms/package.ts (feed-action.js)', () => {
  const root = resolve(__dirname, '../..');
  const { metafile } = buildSync({ entryPoints: [resolve(root, 'functions/alarm-fire/handler.ts')], absWorkingDir: root, bundle: true, platform: 'node', write: false, metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(metafile.inputs);
  expect(inputs).toContain('lib/alarms/scheduled-fire.ts');
  expect(inputs.filter((path) => path.includes('alarms/package') || path.includes('feed-action'))).toEqual([]);
});

test('cdk-nag AwsSolutions checks find nothing unacknowledged', () => {
  const { app } = build();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
