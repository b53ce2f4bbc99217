import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SkywhiskStack, type SkywhiskStackProps } from '../../infra/skywhisk-stack';
import { findDependencyCycle } from '../helpers/template-graph';

// The whole stack as `cdk deploy` gets it, in both invoker modes: cdk-nag clean, deployable order
// (no dependency cycle), the wiring between constructs, and no wildcard actions.

type Mode = NonNullable<SkywhiskStackProps['invokerMode']>;

const ACCOUNT_ENV = { account: '123456789012', region: 'eu-west-1' };

function synthesize(mode: Mode, nag = false, env: typeof ACCOUNT_ENV | undefined = ACCOUNT_ENV): { app: App; stack: SkywhiskStack } {
  // GIVEN an app that skips bundling
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // WHEN
  const stack = new SkywhiskStack(app, 'Skywhisk', { env, invokerMode: mode });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const templates = new Map<Mode, Template>();
function template(mode: Mode): Template {
  if (!templates.has(mode)) templates.set(mode, Template.fromStack(synthesize(mode).stack));
  return templates.get(mode)!;
}

describe.each<Mode>(['ec2', 'fargate'])('%s mode', (mode) => {
  test('cdk-nag AwsSolutions checks find nothing unacknowledged in the whole stack', () => {
    const { app } = synthesize(mode, true);
    expect(() => app.synth()).not.toThrow();
  });

  test('also without an account or region (cdk synth with no credentials), cdk-nag finds nothing unacknowledged', () => {
    const { app } = synthesize(mode, true, undefined);
    expect(() => app.synth()).not.toThrow();
  });

  test('CloudFormation can order every resource: no dependency cycle', () => {
    expect(findDependencyCycle(template(mode).toJSON())).toBeUndefined();
  });

  test('the controller is told which invoker service to wake and may wake only that one', () => {
    const t = template(mode);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SKYWHISK_INVOKER_CLUSTER: Match.anyValue(), SKYWHISK_INVOKER_SERVICE: Match.anyValue(), SKYWHISK_MAX_BLOCKING_WAIT_MS: '25000' }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ControllerFunction'),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Resource: { Ref: Match.stringLikeRegexp('^Invokers.*Service') } })]) },
    });
  });

  test('no IAM statement has a wildcard action on data; the one wildcard is the ECS agent\'s own', () => {
    const policies = Object.values(template(mode).findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }>;
    const wildcards = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => [s.Action].flat())).filter((action) => action.includes('*'));
    // ec2 mode: CDK's container-instance role lets the ECS agent report state (ecs:Submit*, on the cluster).
    expect(wildcards).toEqual(mode === 'ec2' ? ['ecs:Submit*'] : []);
  });

  test('the controller manages alarm schedules that invoke the fire function', () => {
    const t = template(mode);
    t.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SKYWHISK_INVOKER_SERVICE: Match.anyValue(), SKYWHISK_ALARM_TARGET_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmsFireFunction'), 'Arn'] } }) },
    });
  });

  test('images built at deploy: the invoker, plus the action runtimes only where ec2 invokers run them', () => {
    const { app } = synthesize(mode);
    const manifest = JSON.parse(readFileSync(join(app.synth().directory, 'Skywhisk.assets.json'), 'utf8')) as { dockerImages: Record<string, unknown> };
    expect(Object.keys(manifest.dockerImages)).toHaveLength(mode === 'ec2' ? 3 : 1);
  });

  test('the invokers give actions the public API host and the bootstrap prints it', () => {
    const t = template(mode);
    const containers = Object.values(t.findResources('AWS::ECS::TaskDefinition')).flatMap((d) => (d as { Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }).Properties.ContainerDefinitions);
    const apiHost = containers.flatMap((c) => c.Environment).find((e) => e.Name === 'SKYWHISK_API_HOST');
    expect(JSON.stringify(apiHost?.Value)).toMatch(/execute-api.*\/prod/);
    expect(Object.keys(t.toJSON().Outputs)).toEqual(expect.arrayContaining([expect.stringMatching(/ApiHost/), expect.stringMatching(/WskPropertySet/), expect.stringMatching(/GuestSecretArn/)]));
  });
});

test('the dependency-cycle check finds a cycle when there is one', () => {
  const cyclic = {
    Resources: {
      Fn: { Properties: { Environment: { Service: { 'Fn::GetAtt': ['Service', 'Name'] } } } },
      Service: { Properties: { Host: { 'Fn::Sub': 'https://${Api}.execute-api/prod' } } },
      Api: { Properties: {}, DependsOn: ['Method'] },
      Method: { Properties: { Uri: { Ref: 'Fn' } } },
    },
  };
  expect(findDependencyCycle(cyclic)).toEqual(['Fn', 'Service', 'Api', 'Method', 'Fn']);
  expect(findDependencyCycle({ Resources: { ...cyclic.Resources, Method: { Properties: {} } } })).toBeUndefined();
});
