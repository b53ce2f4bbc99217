import * as childProcess from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { InstanceType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Bus } from '../../infra/constructs/bus';
import { backlogSteps } from '../../infra/constructs/fleet-scaling';
import { InvokerFleet, type InvokerFleetProps, type InvokerMode } from '../../infra/constructs/invoker-fleet';
import { RuntimeImages, type ImageArchitecture } from '../../infra/constructs/runtime-images';
import { Store } from '../../infra/constructs/store';
import { supportedKinds } from '../../lib/model/runtimes';

// The InvokerFleet and RuntimeImages constructs: what each mode creates, how the fleet scales on the
// queue backlog, what its roles may do, which images the assembly carries (built by the CLI at
// deploy time, never at synth), and that cdk-nag's AwsSolutions checks find nothing unacknowledged.

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface Built {
  app: App;
  stack: Stack;
  images: RuntimeImages;
  fleet: InvokerFleet;
}

function build(mode: InvokerMode, options: { architecture?: ImageArchitecture; actionRuntimes?: boolean; fleet?: Partial<InvokerFleetProps> } = {}): Built {
  // GIVEN an app that skips bundling, writing to a directory removed after the tests
  const outdir = mkdtempSync(join(tmpdir(), 'skywhisk-fleet-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const store = new Store(stack, 'Store');
  const bus = new Bus(stack, 'Bus');
  const images = new RuntimeImages(stack, 'Images', { architecture: options.architecture, actionRuntimes: options.actionRuntimes });
  // WHEN
  const fleet = new InvokerFleet(stack, 'Invokers', { mode, store, bus, images, apiHost: 'https://api.example.com/prod', ...options.fleet });
  return { app, stack, images, fleet };
}

/** The invoker container's environment, as name → value. */
function environmentOf(template: Template): Record<string, unknown> {
  const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }>;
  return Object.fromEntries(definition.Properties.ContainerDefinitions[0].Environment.map((e) => [e.Name, e.Value]));
}

/** The instances' user data as text, CloudFormation references shown as `${LogicalId.Attribute}`. */
function userDataOf(template: Template): string {
  const [launchTemplate] = Object.values(template.findResources('AWS::EC2::LaunchTemplate')) as Array<{ Properties: { LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } } } }>;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const value = part as Record<string, unknown>;
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if ('Fn::GetAtt' in value) return `\${${(value['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Ref' in value) return `\${${value.Ref as string}}`;
    throw new Error(`unexpected user data part ${JSON.stringify(part)}`);
  };
  return render(launchTemplate.Properties.LaunchTemplateData.UserData['Fn::Base64']);
}

/** The rules the user data appends (-A) or inserts (-I), in order, without the `iptables -w` prefix. */
function iptablesRules(userData: string): string[] {
  return [...userData.matchAll(/iptables -w (-[AI] [^;\n]*)/g)].map((match) => match[1].trim());
}

/** The actions of the statements of the task role's policy, in order. */
function taskRoleActions(template: Template): unknown[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^InvokersTaskDefinitionTaskRole') }] } });
  const [policy] = Object.values(policies) as Array<{ Properties: { PolicyDocument: { Statement: Array<{ Action: unknown }> } } }>;
  return policy.Properties.PolicyDocument.Statement.map((statement) => statement.Action);
}

// Exactly what the code sends to each table (lib/store/table-operations.ts): no scans, batches, streams or DescribeTable it never calls.
const ENTITIES_READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
const ACTIVATIONS_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'];
const COORDINATION_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
const QUEUE_CONSUME = ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];
const ECR_PULL = ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];

describe('ec2 mode', () => {
  let built: Built;
  let template: Template;
  beforeAll(() => {
    built = build('ec2');
    template = Template.fromStack(built.stack);
  });

  test('the invoker runs on the host network with the host Docker socket and the runtimes’ channel directory, one per instance', () => {
    // THEN
    const channels = '/var/lib/skywhisk/runtime-channels';
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'host',
      RequiresCompatibilities: ['EC2'],
      Volumes: [
        { Name: 'docker-socket', Host: { SourcePath: '/var/run/docker.sock' } },
        { Name: 'runtime-channels', Host: { SourcePath: channels } },
      ],
      ContainerDefinitions: [
        Match.objectLike({
          // The runtimes' sockets are reached at the same path the host gives their containers.
          MountPoints: [
            { SourceVolume: 'docker-socket', ContainerPath: '/var/run/docker.sock', ReadOnly: false },
            { SourceVolume: 'runtime-channels', ContainerPath: channels, ReadOnly: false },
          ],
          Environment: Match.arrayWith([{ Name: 'SKYWHISK_RUNTIME_CHANNEL_DIR', Value: channels }]),
          // Off the host network no namespace is entered: no extra capability.
          LinuxParameters: { Capabilities: {}, InitProcessEnabled: true },
          StopTimeout: 120,
        }),
      ],
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      PlacementConstraints: [{ Type: 'distinctInstance' }],
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: Match.stringLikeRegexp('^InvokersCapacity') }, Weight: 1 }],
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
    const environment = environmentOf(template);
    expect(environment).toMatchObject({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_DOCKER_NETWORK: 'skywhisk-actions', SKYWHISK_API_HOST: 'https://api.example.com/prod', SKYWHISK_INVOKER_CONCURRENCY: '16', SKYWHISK_LOG_LEVEL: 'info' });
    expect(environment.SKYWHISK_SANDBOX).toBeUndefined();
  });

  test('the runtime manifest names every kind with its ECR image URI', () => {
    // THEN the environment holds JSON of kind → the asset image URIs
    const manifest = environmentOf(template).SKYWHISK_RUNTIME_IMAGES as { 'Fn::Join': [string, unknown[]] };
    const parts = manifest['Fn::Join'][1];
    expect(parts.filter((part) => typeof part !== 'string')).toEqual(supportedKinds().map((kind) => built.stack.resolve(built.images.manifest[kind])));
    expect(parts[0]).toBe(`{"${supportedKinds()[0]}":"`);
    expect(parts).toContain(`","${supportedKinds()[1]}":"`);
    expect(built.stack.resolve(built.images.manifest['nodejs:20'])).toEqual({
      'Fn::Sub': expect.stringMatching(/^123456789012\.dkr\.ecr\.us-east-1\.\$\{AWS::URLSuffix\}\/cdk-hnb659fds-container-assets-123456789012-us-east-1:[0-9a-f]{64}$/),
    });
  });

  test('container instances scale from zero under an ASG capacity provider: AL2023 ECS AMI, IMDSv2, encrypted root volume', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '0', MaxSize: '4' });
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }), ManagedTerminationProtection: 'DISABLED' }),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't4g.large',
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true }) }],
        NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true })],
      }),
    });
    const parameters = template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(Object.values(parameters).map((p) => p.Default)).toContain('/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id');
    // No Lambda drain hook (the capacity provider's managed draining does it): the one function is the fleet sleeper.
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{ Properties: { Environment: { Variables: Record<string, unknown> } } }>;
    expect(functions.map((f) => Object.keys(f.Properties.Environment.Variables))).toEqual([expect.arrayContaining(['SKYWHISK_FLEET_MIN_TASKS'])]);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    // The service waits for the capacity provider's association with the cluster.
    const [service] = Object.values(template.findResources('AWS::ECS::Service')) as Array<{ DependsOn: string[] }>;
    expect(service.DependsOn.some((id) => Object.keys(template.findResources('AWS::ECS::ClusterCapacityProviderAssociations')).includes(id))).toBe(true);
  });

  test('instances require IMDSv2 tokens with a PUT response hop limit of 1: nothing behind Docker\'s bridge NAT gets a token', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectEquals({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled' }),
      }),
    });
  });

  test('the user data creates the action network: a Docker bridge with inter-container communication off, set up before the ECS agent at every boot', () => {
    const userData = userDataOf(template);
    expect(userData).toContain('NETWORK=skywhisk-actions\n');
    expect(userData).toContain('BRIDGE=skywhisk0\n');
    expect(userData).toMatch(/docker network create --driver bridge --opt com\.docker\.network\.bridge\.name="\$BRIDGE" --opt com\.docker\.network\.bridge\.enable_icc=false "\$NETWORK"/);
    // A systemd unit after Docker (again when it restarts) and before the ECS agent, started now.
    expect(userData).toMatch(/\[Unit\][^[]*Requires=docker\.service\nAfter=docker\.service\nPartOf=docker\.service\nBefore=ecs\.service\n/);
    expect(userData).toContain('ExecStart=/usr/local/sbin/skywhisk-action-network\n');
    expect(userData).toContain('systemctl enable --now skywhisk-action-network.service');
    // The firewall is in place before the cluster's ECS_CLUSTER line lets the agent start tasks.
    expect(userData.indexOf('systemctl enable --now')).toBeLessThan(userData.indexOf('ECS_CLUSTER='));
    // No action runs on the host network any more: the old uid 1000 OUTPUT rule is gone.
    expect(userData).not.toContain('--uid-owner');
  });

  test('the firewall drops what action containers send to metadata, credentials, the VPC, private ranges and the host; DNS to the resolvers stays open', () => {
    const rules = iptablesRules(userDataOf(template));
    // Forwarded traffic entering from the bridge goes through Skywhisk's chain, first in DOCKER-USER.
    expect(rules).toContain('-I DOCKER-USER 1 -i "$BRIDGE" -j SKYWHISK-ACTIONS');
    const forward = rules.filter((rule) => rule.startsWith('-A SKYWHISK-ACTIONS '));
    // The metadata service and the ECS credentials endpoint come first, before any exception.
    expect(forward.slice(0, 2)).toEqual(['-A SKYWHISK-ACTIONS -d 169.254.169.254/32 -j DROP', '-A SKYWHISK-ACTIONS -d 169.254.170.2/32 -j DROP']);
    // The only exceptions: DNS (port 53) to the resolvers.
    const exceptions = forward.filter((rule) => !rule.endsWith('-j DROP'));
    expect(exceptions).toEqual(['-A SKYWHISK-ACTIONS -d "$resolver/32" -p "$protocol" --dport 53 -j RETURN']);
    expect(userDataOf(template)).toContain('RESOLVERS="169.254.169.253 ');
    const drops = forward.filter((rule) => rule.endsWith('-j DROP')).map((rule) => rule.replace('-A SKYWHISK-ACTIONS -d ', '').replace(' -j DROP', ''));
    expect(drops).toEqual([
      '169.254.169.254/32',
      '169.254.170.2/32',
      expect.stringMatching(/^\$\{InvokersVpc[0-9A-F]+\.CidrBlock\}$/),
      '169.254.0.0/16',
      '10.0.0.0/8',
      '172.16.0.0/12',
      '192.168.0.0/16',
      '100.64.0.0/10',
    ]);
    // Traffic to the host itself (and to the agent's credentials proxy the agent DNATs 169.254.170.2
    // to): only replies to connections the host opened, such as the invoker's to a runtime.
    expect(rules).toContain('-I INPUT 1 -i "$BRIDGE" -j SKYWHISK-ACTIONS-INPUT');
    expect(rules.filter((rule) => rule.startsWith('-A SKYWHISK-ACTIONS-INPUT '))).toEqual([
      '-A SKYWHISK-ACTIONS-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
      '-A SKYWHISK-ACTIONS-INPUT -j DROP',
    ]);
  });

  test('the task role reads entities, writes activations and coordination, consumes the queue and its dead letters, and pulls the runtime images: exactly these actions', () => {
    expect(taskRoleActions(template)).toEqual([ECR_PULL, 'ecr:GetAuthorizationToken', ENTITIES_READ, ACTIVATIONS_READ_WRITE, COORDINATION_READ_WRITE, QUEUE_CONSUME, QUEUE_CONSUME]);
  });
});

describe('fargate mode', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(build('fargate').stack);
  });

  test('the invoker runs actions as its own processes: no Docker socket, no volumes, ARM64, a public IP and no ingress', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Volumes: Match.absent(),
      ContainerDefinitions: [Match.objectLike({ MountPoints: Match.absent(), StopTimeout: 120 })],
    });
    expect(environmentOf(template)).toMatchObject({ SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_SANDBOX: 'auto', SKYWHISK_MEMORY_BUDGET_MB: '1536' });
    // A stop drains for 90 s: with 20 s to remove containers, within ECS's 120 s before SIGKILL.
    expect(environmentOf(template).SKYWHISK_INVOKER_DRAIN_MS).toBe('90000');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ StopTimeout: 120 })] });
    expect(environmentOf(template).SKYWHISK_RUNTIME_IMAGES).toBeUndefined();
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('outbound only'), SecurityGroupIngress: Match.absent() });
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  test('nothing of the action network: no instances or user data, no SKYWHISK_DOCKER_NETWORK', () => {
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 0);
    expect(environmentOf(template).SKYWHISK_DOCKER_NETWORK).toBeUndefined();
  });

  test('the task role has no ECR access of its own (the execution role pulls the invoker image)', () => {
    expect(taskRoleActions(template)).toEqual([ENTITIES_READ, ACTIVATIONS_READ_WRITE, COORDINATION_READ_WRITE, QUEUE_CONSUME, QUEUE_CONSUME]);
  });
});

describe.each(['ec2', 'fargate'] as const)('%s mode scaling', (mode) => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(build(mode).stack);
  });

  test('the service scales 0..4 with exact capacities on the backlog: waiting plus in-flight messages', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 4, ScalableDimension: 'ecs:service:DesiredCount' });
    const backlogMetrics = Match.arrayWith([
      Match.objectLike({ Expression: 'visible + inFlight', ReturnData: true }),
      Match.objectLike({ Id: 'visible', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' }) }) }),
      Match.objectLike({ Id: 'inFlight', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesNotVisible', Namespace: 'AWS/SQS' }) }) }),
    ]);
    // Busy: within a minute, one invoker per 100 messages of backlog (bounds relative to the threshold 1).
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 99, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 99, MetricIntervalUpperBound: 199, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 199, MetricIntervalUpperBound: 299, ScalingAdjustment: 3 },
          { MetricIntervalLowerBound: 299, ScalingAdjustment: 4 },
        ],
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, Metrics: backlogMetrics });
    // Scale-in is the fleet sleeper's (test/infra/fleet-scaling.test.ts): no policy sets the count down.
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'));
    expect(policies).toHaveLength(1);
  });

  test('logs go to a log group kept a month, and the cluster has Container Insights', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }) })] });
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });
});

test('backlog steps: [1, per) wants max(1, min), each further per one more, capped at max', () => {
  expect(backlogSteps(0, 4, 100)).toEqual([
    { lower: 1, upper: 100, tasks: 1 },
    { lower: 100, upper: 200, tasks: 2 },
    { lower: 200, upper: 300, tasks: 3 },
    { lower: 300, upper: undefined, tasks: 4 },
  ]);
  expect(backlogSteps(2, 3, 50)).toEqual([
    { lower: 1, upper: 100, tasks: 2 },
    { lower: 100, upper: undefined, tasks: 3 },
  ]);
  expect(backlogSteps(1, 1, 100)).toEqual([{ lower: 1, upper: undefined, tasks: 1 }]);
});

test('grantWake gives exactly DescribeServices and UpdateService on the service; wakeEnvironment names cluster and service', () => {
  // GIVEN
  const { stack, fleet } = build('fargate');
  const waker = new Role(stack, 'Waker', { assumedBy: new AccountRootPrincipal() });
  // WHEN
  fleet.grantWake(waker);
  // THEN
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^Waker') }],
    PolicyDocument: { Statement: [{ Action: ['ecs:DescribeServices', 'ecs:UpdateService'], Effect: 'Allow', Resource: stack.resolve(fleet.serviceArn) }] },
  });
  // Both known without a reference to the service, so nothing that names it waits for a task.
  expect(stack.resolve(fleet.serviceArn)).toEqual({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:service/', { Ref: expect.stringMatching(/^InvokersCluster/) }, '/invokers-fargate']],
  });
  expect(stack.resolve(fleet.wakeEnvironment)).toEqual({
    SKYWHISK_INVOKER_CLUSTER: { 'Fn::GetAtt': [expect.stringMatching(/^InvokersCluster/), 'Arn'] },
    SKYWHISK_INVOKER_SERVICE: 'invokers-fargate',
  });
  Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', { ServiceName: 'invokers-fargate' });
  expect(fleet.mode).toBe('fargate');
});

describe('images', () => {
  test('one image per runtime kind plus the invoker, from ECR Public bases, staged for the CLI and not built at synth', () => {
    // GIVEN a watch on every way the CDK could start docker
    const spawns = [jest.spyOn(childProcess, 'spawnSync'), jest.spyOn(childProcess, 'spawn'), jest.spyOn(childProcess, 'execSync'), jest.spyOn(childProcess, 'execFileSync')];
    try {
      const { app } = build('ec2');
      // WHEN
      const assembly = app.synth();
      // THEN
      const calledDocker = spawns.some((spy) => spy.mock.calls.some((call) => /docker/.test(String(call[0]))));
      expect(calledDocker).toBe(false);
      const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Test.assets.json'), 'utf8')) as { dockerImages: Record<string, { displayName: string; source: { directory: string; dockerFile?: string; dockerBuildArgs?: Record<string, string>; platform: string } }> };
      const images = Object.values(manifest.dockerImages);
      expect(images).toHaveLength(supportedKinds().length + 1);
      expect(images.map((image) => image.source.platform)).toEqual(images.map(() => 'linux/arm64'));
      expect(images.map((image) => image.source.dockerBuildArgs?.BASE).sort()).toEqual([
        'public.ecr.aws/docker/library/node:20-bookworm-slim',
        'public.ecr.aws/docker/library/node:22-bookworm-slim',
        'public.ecr.aws/docker/library/python:3.11-slim-bookworm',
        undefined,
      ]);
      const invoker = images.find((image) => image.source.dockerFile === 'infra/invoker.Dockerfile')!;
      expect(invoker).toBeDefined();
      // The invoker's context is the repository root, cut down to what its Dockerfile copies.
      const staged = join(assembly.directory, invoker.source.directory);
      expect(readFileSync(join(staged, 'lib/invoker/main.ts'), 'utf8')).toContain('main()');
      expect(readFileSync(join(staged, 'runtimes/python/proxy.py'), 'utf8').length).toBeGreaterThan(0);
      for (const absent of ['node_modules', 'test', '.git', 'functions', 'bench', 'cdk.out']) expect(() => readFileSync(join(staged, absent))).toThrow(/ENOENT/);
    } finally {
      for (const spy of spawns) spy.mockRestore();
    }
  });

  test('x86_64 builds amd64 images and runs on t3 instances or X86_64 Fargate', () => {
    const ec2 = build('ec2', { architecture: 'x86_64' });
    const ec2Template = Template.fromStack(ec2.stack);
    ec2Template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: 't3.large' }) });
    const parameters = ec2Template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(Object.values(parameters).map((p) => p.Default)).toContain('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
    const assembly = ec2.app.synth();
    const manifest = JSON.parse(readFileSync(join(assembly.directory, 'Test.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { platform: string } }> };
    expect(Object.values(manifest.dockerImages).map((image) => image.source.platform)).toEqual(['linux/amd64', 'linux/amd64', 'linux/amd64', 'linux/amd64']);
    Template.fromStack(build('fargate', { architecture: 'x86_64' }).stack).hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' } });
  });

  test('grantPull gives ECR pull on the asset repository', () => {
    const { stack, images } = build('fargate');
    const role = new Role(stack, 'Puller', { assumedBy: new AccountRootPrincipal() });
    images.grantPull(role);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Puller') }] } });
    const [statements] = Object.values(policies).map((policy) => (policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement);
    expect(statements.map((statement) => statement.Action)).toEqual([ECR_PULL, 'ecr:GetAuthorizationToken']);
    expect(JSON.stringify(statements[0].Resource)).toContain(':repository/cdk-hnb659fds-container-assets-123456789012-us-east-1');
    expect(statements[1].Resource).toBe('*');
  });
});

test('invalid sizes and architecture mismatches are refused with their names', () => {
  const fleet = (mode: InvokerMode, props: Partial<InvokerFleetProps>, architecture?: ImageArchitecture) => () => build(mode, { fleet: props, architecture });
  expect(fleet('fargate', { minTasks: 5, maxTasks: 4 })).toThrow(/minTasks \(5\) is above maxTasks \(4\)/);
  expect(fleet('fargate', { maxTasks: 0, minTasks: 0 })).toThrow(/maxTasks must be an integer of at least 1 \(got 0\)/);
  expect(fleet('fargate', { minTasks: -1 })).toThrow(/minTasks must be an integer of at least 0 \(got -1\)/);
  expect(fleet('fargate', { backlogPerTask: 0 })).toThrow(/backlogPerTask must be an integer of at least 1/);
  expect(fleet('fargate', { concurrency: 1.5 })).toThrow(/concurrency must be an integer/);
  expect(fleet('fargate', { memoryMiB: 1024, actionMemoryMiB: 1024 })).toThrow(/actionMemoryMiB \(1024\) must leave the invoker some/);
  expect(fleet('ec2', { instanceType: new InstanceType('m5.large') })).toThrow(/instanceType m5\.large is not an arm64 instance type/);
  expect(fleet('ec2', { instanceType: new InstanceType('c7g.xlarge') }, 'x86_64')).toThrow(/instanceType c7g\.xlarge is not an x86_64 instance type/);
  expect(fleet('fargate', { architecture: 'x86_64' })).toThrow(/architecture 'x86_64' differs from the images' \('arm64'\)/);
  expect(() => build('ec2', { actionRuntimes: false })).toThrow(/ec2 mode runs the action runtime images/);
  // Several problems come in one message.
  expect(fleet('fargate', { minTasks: -1, backlogPerTask: 0 })).toThrow(/minTasks.*backlogPerTask/);
});

test('in an imported VPC without a known CIDR the firewall still drops the private ranges', () => {
  // GIVEN a VPC given by id only
  const { stack } = build('ec2', {
    fleet: { vpc: Vpc.fromVpcAttributes(new Stack(new App(), 'Other', { env: { account: '123456789012', region: 'us-east-1' } }), 'Imported', { vpcId: 'vpc-1234', availabilityZones: ['us-east-1a'], publicSubnetIds: ['subnet-1'] }) },
  });
  // THEN
  const drops = iptablesRules(userDataOf(Template.fromStack(stack))).filter((rule) => rule.startsWith('-A SKYWHISK-ACTIONS -d ') && rule.endsWith('-j DROP'));
  expect(drops).toEqual(['169.254.169.254/32', '169.254.170.2/32', '169.254.0.0/16', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].map((range) => `-A SKYWHISK-ACTIONS -d ${range} -j DROP`));
});

test('without the action runtimes only the invoker image is built, and a fargate fleet runs on it', () => {
  const { images, fleet } = build('fargate', { actionRuntimes: false });
  expect(images.manifest).toEqual({});
  expect(images.runtimeImages).toEqual({});
  expect(fleet.mode).toBe('fargate');
});

test.each(['ec2', 'fargate'] as const)('cdk-nag AwsSolutions finds nothing unacknowledged in the %s fleet and its images', (mode) => {
  const { app } = build(mode);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
