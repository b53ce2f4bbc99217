import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SkywhiskStack, type SkywhiskStackProps } from '../../infra/skywhisk-stack';
import { runtimeKindsOf } from '../../lib/model/runtimes';
import { dependentsOf, findDependencyCycle } from '../helpers/template-graph';

// The whole stack as `cdk deploy` gets it, in both invoker modes: cdk-nag clean, deployable order
// (no dependency cycle), the wiring between constructs, and no wildcard actions.

type Mode = NonNullable<SkywhiskStackProps['invokerMode']>;

const ACCOUNT_ENV = { account: '123456789012', region: 'eu-west-1' };

function synthesize(mode: Mode, nag = false, env: typeof ACCOUNT_ENV | undefined = ACCOUNT_ENV, directDispatch = false): { app: App; stack: SkywhiskStack } {
  // GIVEN an app that skips bundling
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // WHEN
  const stack = new SkywhiskStack(app, 'Skywhisk', { env, invokerMode: mode, directDispatch });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

const templates = new Map<Mode, Template>();
function template(mode: Mode): Template {
  if (!templates.has(mode)) templates.set(mode, Template.fromStack(synthesize(mode).stack));
  return templates.get(mode)!;
}

/** The invoker service's ARN as the stack writes it: from the cluster and the service's fixed name, never a reference to the service. */
function serviceArn(mode: Mode): unknown {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:123456789012:service/', { Ref: Match.stringLikeRegexp('^InvokersCluster') }, `/invokers-${mode}`]] };
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

  test('the API and every function are created beside the invoker service, not after a task of it is up: only its scaling waits for it', () => {
    const json = template(mode).toJSON() as { Resources: Record<string, { Type: string; Properties?: unknown; DependsOn?: string | string[] }> };
    const [service] = Object.keys(template(mode).findResources('AWS::ECS::Service'));
    const waiting = dependentsOf(json, service).map((id) => json.Resources[id].Type);
    expect(new Set(waiting)).toEqual(new Set(['AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'AWS::CloudWatch::Alarm']));
  });

  test.each([false, true])('the VPC (direct dispatch %s) logs all its traffic to a log group kept a month, and reaches DynamoDB and S3 through free gateways in every subnet', (direct) => {
    const t = direct ? Template.fromStack(synthesize(mode, false, ACCOUNT_ENV, true).stack) : template(mode);
    const [vpcId] = Object.keys(t.findResources('AWS::EC2::VPC'));
    const [flowLog] = Object.values(t.findResources('AWS::EC2::FlowLog')) as Array<{ Properties: { ResourceId: unknown; TrafficType: string; LogDestinationType: string; LogGroupName: unknown } }>;
    expect(flowLog.Properties).toMatchObject({ ResourceId: { Ref: vpcId }, ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    const groups = t.findResources('AWS::Logs::LogGroup') as Record<string, { Properties: { RetentionInDays: number } }>;
    expect(groups[(flowLog.Properties.LogGroupName as { Ref: string }).Ref].Properties.RetentionInDays).toBe(30);
    const subnets = Object.keys(t.findResources('AWS::EC2::RouteTable'));
    for (const service of ['dynamodb', 's3']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
        RouteTableIds: Match.arrayEquals(subnets.map((id) => ({ Ref: id }))),
      });
    }
  });

  test.each([false, true])('every Skywhisk function (direct dispatch %s) has a role of its own with no managed policy, writing to its own log group only', (direct) => {
    const t = direct ? Template.fromStack(synthesize(mode, false, ACCOUNT_ENV, true).stack) : template(mode);
    type Fn = { Properties: { Role: { 'Fn::GetAtt': [string, string] }; LoggingConfig: { LogGroup: { Ref: string } }; Environment: { Variables: Record<string, unknown> }; VpcConfig?: unknown } };
    const functions = (Object.values(t.findResources('AWS::Lambda::Function')) as Fn[]).filter((fn) => fn.Properties.Environment?.Variables?.NODE_OPTIONS === '--enable-source-maps');
    expect(functions.length).toBe(4);
    type Statement = { Action: string | string[]; Resource: unknown };
    const roles = t.findResources('AWS::IAM::Role') as Record<string, { Properties: { ManagedPolicyArns?: unknown[]; Policies?: Array<{ PolicyDocument: { Statement: Statement[] } }> } }>;
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as Array<{ Properties: { Roles: Array<{ Ref: string }>; PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }>;
    for (const fn of functions) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      expect(roles[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      const statements = policies.filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const inline = (roles[roleId].Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
      const logStatements = statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('logs:')));
      expect(logStatements).toEqual([{ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] } }]);
      // Only a function in the VPC manages network interfaces, in its role itself (there when Lambda checks it at create).
      expect(statements.some((statement) => [statement.Action].flat().includes('ec2:CreateNetworkInterface'))).toBe(false);
      expect(inline.some((statement) => [statement.Action].flat().includes('ec2:CreateNetworkInterface'))).toBe(fn.Properties.VpcConfig !== undefined);
    }
  });

  test('the controller is told which invoker service to wake and may wake only that one', () => {
    const t = template(mode);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SKYWHISK_INVOKER_CLUSTER: Match.anyValue(), SKYWHISK_INVOKER_SERVICE: `invokers-${mode}`, SKYWHISK_MAX_BLOCKING_WAIT_MS: '60000' }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ControllerFunction'),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Resource: serviceArn(mode) })]) },
    });
  });

  test('an alarm fire wakes a fleet at zero too: the fire function is told the invoker service and may wake only that one', () => {
    const t = template(mode);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SKYWHISK_ALARM_ROLE_ARN: Match.anyValue(), SKYWHISK_INVOKER_CLUSTER: Match.anyValue(), SKYWHISK_INVOKER_SERVICE: `invokers-${mode}` }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^AlarmsFireFunction'),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Resource: serviceArn(mode) })]) },
    });
  });

  test('no IAM statement has a wildcard action on data; the one wildcard is the ECS agent\'s own', () => {
    const policies = Object.values(template(mode).findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }>;
    const wildcards = policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => [s.Action].flat())).filter((action) => action.includes('*'));
    // ec2 mode: CDK's container-instance role lets the ECS agent report state (ecs:Submit*, on the cluster).
    expect(wildcards).toEqual(mode === 'ec2' ? ['ecs:Submit*'] : []);
  });

  test('a fargate deployment refuses actions that need an image when they are created; an ec2 one accepts them', () => {
    const variables = Object.values(template(mode).findResources('AWS::Lambda::Function'))
      .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {})
      .find((v) => 'SKYWHISK_MAX_BLOCKING_WAIT_MS' in v);
    expect(variables).toBeDefined();
    expect(variables!.SKYWHISK_ACTIONS_AS_PROCESSES).toBe(mode === 'fargate' ? 'true' : undefined);
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
    expect(Object.keys(manifest.dockerImages)).toHaveLength(mode === 'ec2' ? 4 : 1);
  });

  test('the invokers give actions the public API host and the bootstrap prints it', () => {
    const t = template(mode);
    const containers = Object.values(t.findResources('AWS::ECS::TaskDefinition')).flatMap((d) => (d as { Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }).Properties.ContainerDefinitions);
    const apiHost = containers.flatMap((c) => c.Environment).find((e) => e.Name === 'SKYWHISK_API_HOST');
    expect(JSON.stringify(apiHost?.Value)).toMatch(/execute-api.*\/prod/);
    expect(Object.keys(t.toJSON().Outputs)).toEqual(expect.arrayContaining([expect.stringMatching(/ApiHost/), expect.stringMatching(/WskPropertySet/), expect.stringMatching(/GuestSecretArn/)]));
  });
});

describe.each<Mode>(['ec2', 'fargate'])('%s mode with direct dispatch', (mode) => {
  const direct = () => Template.fromStack(synthesize(mode, false, ACCOUNT_ENV, true).stack);
  let t: Template;
  beforeAll(() => (t = direct()));

  test('cdk-nag finds nothing unacknowledged, and CloudFormation can order every resource', () => {
    const { app } = synthesize(mode, true, ACCOUNT_ENV, true);
    expect(() => app.synth()).not.toThrow();
    expect(findDependencyCycle(t.toJSON())).toBeUndefined();
  });

  test('the controller runs in the invokers’ VPC, in subnets with no route out, and reads the dispatch secret', () => {
    const [controller] = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: Match.objectLike({ SKYWHISK_MAX_BLOCKING_WAIT_MS: '60000' }) } } })) as Array<{
      Properties: { VpcConfig?: { SubnetIds: Array<{ Ref: string }>; SecurityGroupIds: unknown[] }; Environment: { Variables: Record<string, unknown> } };
    }>;
    expect(controller.Properties.VpcConfig?.SubnetIds.map((s) => s.Ref)).toEqual([expect.stringMatching(/ControllerSubnet1/), expect.stringMatching(/ControllerSubnet2/)]);
    expect(controller.Properties.Environment.Variables.SKYWHISK_DISPATCH_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^DispatchDispatchSecret/) });
    t.resourcePropertiesCountIs('AWS::EC2::Route', { DestinationCidrBlock: '0.0.0.0/0', RouteTableId: { Ref: Match.stringLikeRegexp('ControllerSubnet') } }, 0);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^ControllerFunction'),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: Match.stringLikeRegexp('^DispatchDispatchSecret') } })]) },
    });
  });

  test('what the controller calls from inside the VPC has an endpoint there: DynamoDB, SQS, Secrets Manager, ECS, EventBridge Scheduler', () => {
    const endpoints = Object.values(t.findResources('AWS::EC2::VPCEndpoint')) as Array<{ Properties: { ServiceName: unknown; VpcEndpointType?: string } }>;
    const names = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));
    for (const service of ['dynamodb', 'sqs', 'secretsmanager', 'ecs', 'scheduler']) expect(names.some((n) => n.includes(`.${service}`))).toBe(true);
    // Those five and S3's gateway (image layers).
    expect(endpoints).toHaveLength(6);
  });

  test('private DNS sends the invokers (and their ECS agent) to those endpoints too: they admit the controller and the invokers on 443', () => {
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')) as Array<{ Properties: { GroupId: unknown; FromPort: number; SourceSecurityGroupId: unknown } }>;
    const toEndpoints = ingress.filter((i) => JSON.stringify(i.Properties.GroupId).includes('EndpointSecurityGroup'));
    expect(toEndpoints.map((i) => i.Properties.FromPort)).toEqual([443, 443]);
    const sources = toEndpoints.map((i) => JSON.stringify(i.Properties.SourceSecurityGroupId));
    expect(sources).toEqual(expect.arrayContaining([expect.stringMatching(/DispatchControllerSecurityGroup/), expect.stringMatching(mode === 'ec2' ? /InstanceSecurityGroup/ : /TaskSecurityGroup/)]));
  });

  test('the invokers get the secret from the ECS agent and listen on 8081, which admits the controller and nothing else', () => {
    const containers = Object.values(t.findResources('AWS::ECS::TaskDefinition')).flatMap((d) => (d as { Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }>; Secrets?: Array<{ Name: string; ValueFrom: unknown }> }> } }).Properties.ContainerDefinitions);
    expect(containers[0].Secrets).toEqual([{ Name: 'SKYWHISK_DISPATCH_SECRET', ValueFrom: { Ref: expect.stringMatching(/^DispatchDispatchSecret/) } }]);
    expect(containers[0].Environment).toEqual(expect.arrayContaining([{ Name: 'SKYWHISK_DISPATCH_PORT', Value: '8081' }, { Name: 'SKYWHISK_DISPATCH_HOST', Value: '0.0.0.0' }]));
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')) as Array<{ Properties: Record<string, unknown> }>;
    const toInvokers = ingress.filter((i) => JSON.stringify(i.Properties.GroupId).includes(mode === 'ec2' ? 'InstanceSecurityGroup' : 'TaskSecurityGroup'));
    expect(toInvokers).toHaveLength(1);
    expect(toInvokers[0].Properties).toMatchObject({ IpProtocol: 'tcp', FromPort: 8081, ToPort: 8081, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^DispatchControllerSecurityGroup/), 'GroupId'] } });
  });

  test('without it: the controller outside any VPC, no secret, no interface endpoints, nothing admitted to the invokers', () => {
    const plain = template(mode);
    for (const fn of Object.values(plain.findResources('AWS::Lambda::Function')) as Array<{ Properties: { VpcConfig?: unknown; Environment?: { Variables?: Record<string, unknown> } } }>) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
      expect(fn.Properties.Environment?.Variables?.SKYWHISK_DISPATCH_SECRET_ARN).toBeUndefined();
    }
    const endpoints = Object.values(plain.findResources('AWS::EC2::VPCEndpoint')) as Array<{ Properties: { VpcEndpointType: string } }>;
    expect(endpoints.map((endpoint) => endpoint.Properties.VpcEndpointType)).toEqual(['Gateway', 'Gateway']);
    plain.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });
});

test('action limits reach the controller, and a bad value fails the synth', () => {
  const build = (actionLimits: string) => new SkywhiskStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Skywhisk', { env: ACCOUNT_ENV, actionLimits });
  Template.fromStack(build('{"memory":{"max":4096}}')).hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ SKYWHISK_MAX_BLOCKING_WAIT_MS: Match.anyValue(), SKYWHISK_ACTION_LIMITS: '{"memory":{"max":4096}}' }) },
  });
  expect(() => build('{"memory":{"min":1024,"max":512}}')).toThrow(/actionLimits: memory: min 1024 is above max 512/);
});

describe('a runtimes manifest', () => {
  const manifest = {
    description: ['long prose that the functions do not need'],
    runtimes: {
      nodejs: [{ kind: 'nodejs:22', default: true, image: { prefix: 'skywhisk', name: 'action-nodejs-v22', tag: 'latest' }, attached: { attachmentName: 'codefile', attachmentType: 'text/plain' } }],
      go: [{ kind: 'go:1.22', default: true, image: { prefix: 'openwhisk', name: 'action-golang-v1.22', tag: 'nightly' }, stemCells: [{ initialCount: 1, memory: '256 MB' }] }],
    },
  };
  const build = (text: string) => new SkywhiskStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Skywhisk', { env: ACCOUNT_ENV, runtimesManifest: text });

  test('reaches the controller and the invokers as compact JSON that gives the same kinds', () => {
    const t = Template.fromStack(build(JSON.stringify(manifest)));
    const controller = Object.values(t.findResources('AWS::Lambda::Function'))
      .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, string> } } }).Properties.Environment?.Variables ?? {})
      .find((v) => 'SKYWHISK_MAX_BLOCKING_WAIT_MS' in v)!;
    const invoker = Object.values(t.findResources('AWS::ECS::TaskDefinition')).flatMap((d) => (d as { Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: string }> }> } }).Properties.ContainerDefinitions)[0];
    const passed = controller.SKYWHISK_RUNTIMES;
    expect(invoker.Environment).toContainEqual({ Name: 'SKYWHISK_RUNTIMES', Value: passed });
    expect(passed).not.toContain('description');
    expect(runtimeKindsOf(passed, 'env')).toEqual(runtimeKindsOf(JSON.stringify(manifest), 'props'));
  });

  test('that is bad, or too big for a function environment, fails the synth with its problem', () => {
    expect(() => build('{"runtimes": {"go": []}}')).toThrow(/runtimesManifest is not a runtimes manifest.*runtimes\.go: at least one kind/);
    const many = { runtimes: { go: Array.from({ length: 40 }, (_, i) => ({ kind: `go:1.${i}`, image: { prefix: 'openwhisk', name: 'action-golang-v1', tag: `t${i}` } })) } };
    expect(() => build(JSON.stringify(many))).toThrow(/runtimesManifest: \d+ bytes as compact JSON, above the 2048/);
    const badCells = { runtimes: { go: [{ kind: 'go:1.22', image: { name: 'action-golang-v1.22' }, stemCells: [{ initialCount: 1, memory: 'lots' }] }] } };
    expect(() => build(JSON.stringify(badCells))).toThrow(/stemCells: 0\.memory: 'lots' is not a memory size/);
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

test('deployed to a LocalStack, the API host printed and given to actions is LocalStack’s URL for the API', () => {
  const stack = new SkywhiskStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Skywhisk', { env: ACCOUNT_ENV, invokerMode: 'fargate', localstackEdge: 'localhost.localstack.cloud:4566' });
  const t = Template.fromStack(stack);
  const [apiId] = Object.keys(t.findResources('AWS::ApiGateway::RestApi'));
  const host = { 'Fn::Join': ['', ['http://', { Ref: apiId }, '.execute-api.localhost.localstack.cloud:4566/prod']] };
  expect(Object.values(t.findOutputs('*')).map((output) => output.Value)).toContainEqual(host);
  const [definition] = Object.values(t.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }>;
  expect(definition.Properties.ContainerDefinitions[0].Environment).toContainEqual({ Name: 'SKYWHISK_API_HOST', Value: host });
});

test('reserved concurrency for the controller only when asked for: none by default, which new accounts (quota 10) need', () => {
  const controllerOf = (t: Template) =>
    (Object.values(t.findResources('AWS::Lambda::Function')) as Array<{ Properties: { ReservedConcurrentExecutions?: number; Environment?: { Variables?: Record<string, unknown> } } }>).filter(
      (fn) => fn.Properties.Environment?.Variables?.SKYWHISK_MAX_BLOCKING_WAIT_MS !== undefined,
    );
  const reserved = Template.fromStack(new SkywhiskStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Skywhisk', { env: ACCOUNT_ENV, controllerConcurrency: 200 }));
  expect(controllerOf(reserved).map((fn) => fn.Properties.ReservedConcurrentExecutions)).toEqual([200]);
  // No other function reserves any.
  for (const fn of Object.values(reserved.findResources('AWS::Lambda::Function')) as Array<{ Properties: { ReservedConcurrentExecutions?: number } }>) {
    if (!controllerOf(reserved).includes(fn)) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  }
  expect(controllerOf(template('ec2')).map((fn) => fn.Properties.ReservedConcurrentExecutions)).toEqual([undefined]);
  expect(() => new SkywhiskStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Skywhisk', { env: ACCOUNT_ENV, controllerConcurrency: 0 })).toThrow(/reservedConcurrency must be a whole number/);
});
