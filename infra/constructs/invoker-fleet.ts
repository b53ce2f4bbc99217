import { Duration, Names, Stack } from 'aws-cdk-lib';
import { AutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import {
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  InstanceArchitecture,
  InstanceType,
  LaunchTemplate,
  Port,
  SecurityGroup,
  SubnetType,
  UserData,
  Vpc,
  type IConnectable,
  type IVpc,
} from 'aws-cdk-lib/aws-ec2';
import {
  AmiHardwareType,
  AsgCapacityProvider,
  type AddAutoScalingGroupCapacityOptions,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  Ec2Service,
  Ec2TaskDefinition,
  EcsOptimizedImage,
  FargateService,
  FargateTaskDefinition,
  LinuxParameters,
  LogDrivers,
  NetworkMode,
  OperatingSystemFamily,
  PidMode,
  PlacementConstraint,
  Secret as EcsSecret,
  type BaseService,
  type TaskDefinition,
} from 'aws-cdk-lib/aws-ecs';
import { Role, ServicePrincipal, type Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';
import { FLEET_METRICS_ENV } from '../../lib/fleet/activity-metrics';
import { RUNTIMES_ENV } from '../../lib/model/runtimes';
import { ACTION_NETWORK, actionNetworkUserData } from './action-network';
import type { Bus } from './bus';
import { platformVpc } from './platform-vpc';
import { grantDesiredCount, scaleFleet } from './fleet-scaling';
import { grantInvokerAccess, platformEnvironment } from './platform-access';
import type { ImageArchitecture, RuntimeImages } from './runtime-images';
import type { Store } from './store';

/**
 * Where invokers run.
 * - `ec2`: one invoker per EC2 container instance, starting action containers through the host's
 *   Docker engine (the docker factory): OpenWhisk's own model, and the only one running blackbox images.
 * - `fargate`: invokers on Fargate running each action as a process of the task (the process factory).
 */
export type InvokerMode = 'ec2' | 'fargate';

export interface InvokerFleetProps {
  /** Where invokers run (see `InvokerMode`). */
  readonly mode: InvokerMode;
  /**
   * Direct dispatch: invokers take blocking activations from controllers on `port` of their private
   * address, authenticated with `secret` (see allowDispatchFrom).
   * @default none: blocking activations go through the queue
   */
  readonly directDispatch?: { readonly secret: ISecret; readonly port: number };
  /** The tables: actions are read from entities, activations claimed and recorded in activations. */
  readonly store: Store;
  /** The invocation queue the invokers consume, and whose backlog sizes the fleet. */
  readonly bus: Bus;
  /** The invoker image (both modes) and the runtime images (ec2 mode). */
  readonly images: RuntimeImages;
  /** The public API URL (`https://…/prod`), given to actions as `__OW_API_HOST` (`SKYWHISK_API_HOST`). */
  readonly apiHost: string;
  /** The deployment's runtimes manifest (compact JSON in OpenWhisk's format), as `SKYWHISK_RUNTIMES`. */
  readonly runtimesManifest?: string;
  /**
   * The network the invokers run in. Invokers need outbound access to AWS APIs and registries and
   * accept no inbound connections.
   * @default a new VPC in 2 AZs with public subnets only and no NAT gateway: fargate tasks get public
   * IPs and ec2 container instances are in the public subnets (the cheapest egress)
   */
  readonly vpc?: IVpc;
  /**
   * Fewest invokers, kept while the queue is empty. 0 lets the fleet (and in ec2 mode its
   * instances) scale to zero; the controller wakes it on the next invocation.
   * @default 0
   */
  readonly minTasks?: number;
  /**
   * Most invokers (and, in ec2 mode, container instances: one invoker each).
   * @default 4
   */
  readonly maxTasks?: number;
  /**
   * Queue backlog (messages waiting plus in flight) per running invoker before another is added.
   * @default 100
   */
  readonly backlogPerTask?: number;
  /**
   * CPU architecture of the invokers; must be the images' (`images.architecture`).
   * @default the images' architecture (RuntimeImages' own default: 'arm64')
   */
  readonly architecture?: ImageArchitecture;
  /**
   * ec2 mode only: the container instances' type; its architecture must be `architecture`.
   * @default t4g.large for arm64, t3.large for x86_64 (2 vCPU, 8 GiB)
   */
  readonly instanceType?: InstanceType;
  /**
   * fargate mode only: CPU units of an invoker task (its actions share them).
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * fargate mode only: memory of an invoker task in MiB (its actions share it).
   * @default 2048
   */
  readonly memoryMiB?: number;
  /**
   * Memory an invoker's container pool gives its actions, in MiB (`SKYWHISK_MEMORY_BUDGET_MB`).
   * @default fargate: memoryMiB - 512 (the invoker's own share); ec2: 6144, for the default 8 GiB instance types
   */
  readonly actionMemoryMiB?: number;
  /**
   * Activations an invoker runs at once (`SKYWHISK_INVOKER_CONCURRENCY`).
   * @default 16
   */
  readonly concurrency?: number;
  /**
   * Invoker log level (`SKYWHISK_LOG_LEVEL`: pino's trace, debug, info, warn, error).
   * @default 'info'
   */
  readonly logLevel?: string;
  /**
   * Retention of the invokers' logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** Seconds ECS waits after SIGTERM before killing an invoker: it drains its activations meanwhile (Fargate's maximum). */
const STOP_TIMEOUT = Duration.seconds(120);
/**
 * How long a stopping invoker waits for its activations (`SKYWHISK_INVOKER_DRAIN_MS`): within
 * STOP_TIMEOUT with room for removing its containers (20 s), so it records those still running as
 * unfinished and deregisters itself instead of being killed in the middle.
 */
const DRAIN_MS = 90_000;
/** ec2 mode: the host directory of the runtimes' sockets and tokens, root-only (0700, made by the invoker). */
const RUNTIME_CHANNEL_DIR = '/var/lib/skywhisk/runtime-channels';

/**
 * The invoker fleet: an ECS service of invokers consuming the invocation queue, scaled out on its
 * backlog and back in after a quarter of an hour without work (infra/constructs/fleet-scaling.ts).
 * From zero, the backlog alarm takes a minute or two: the controller's waker
 * (lib/controller/fleet-waker.ts, given `wakeEnvironment` and `grantWake`) sets the service's
 * desired count to 1 itself when an invocation arrives at a fleet at zero.
 */
export class InvokerFleet extends Construct {
  public readonly mode: InvokerMode;
  public readonly cluster: Cluster;
  public readonly service: BaseService;
  public readonly taskDefinition: TaskDefinition;
  public readonly logGroup: LogGroup;
  /** The network the invokers run in. */
  public readonly vpc: IVpc;
  /** What guards the invokers: the instances' group (ec2) or the tasks' (fargate). */
  public readonly securityGroup: SecurityGroup;
  private readonly dispatchPort?: number;
  /** What the controller's waker reads (lib/controller/deps.ts): the cluster ARN and the service name. */
  public readonly wakeEnvironment: Record<string, string>;
  /**
   * The service's name and ARN, known without waiting for the service: whatever names the fleet
   * (the controller, the fire function, the sleeper) is created beside it, not after a task is up.
   */
  public readonly serviceName: string;
  public readonly serviceArn: string;
  /** The fleet's name in its invokers' activity metrics (the `Fleet` dimension of lib/fleet/activity-metrics.ts). */
  public readonly fleetName: string;

  constructor(scope: Construct, id: string, props: InvokerFleetProps) {
    super(scope, id);
    const minTasks = props.minTasks ?? 0;
    const maxTasks = props.maxTasks ?? 4;
    const backlogPerTask = props.backlogPerTask ?? 100;
    const architecture = props.architecture ?? props.images.architecture;
    const instanceType = props.instanceType ?? new InstanceType(architecture === 'arm64' ? 't4g.large' : 't3.large');
    const cpu = props.cpu ?? 1024;
    const memoryMiB = props.memoryMiB ?? 2048;
    const actionMemoryMiB = props.actionMemoryMiB ?? (props.mode === 'fargate' ? memoryMiB - 512 : 6144);
    const concurrency = props.concurrency ?? 16;
    validate({ ...props, minTasks, maxTasks, backlogPerTask, architecture, instanceType, cpu, memoryMiB, actionMemoryMiB, concurrency });
    this.mode = props.mode;

    const vpc = props.vpc ?? this.defaultVpc();
    this.vpc = vpc;
    this.dispatchPort = props.directDispatch?.port;
    this.cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });

    // The name the invokers' activity metrics carry, which the idle alarm reads.
    const fleetName = Names.uniqueId(this);
    this.fleetName = fleetName;
    const environment: Record<string, string> = {
      ...platformEnvironment(props.store, props.bus),
      [FLEET_METRICS_ENV]: fleetName,
      SKYWHISK_API_HOST: props.apiHost,
      SKYWHISK_INVOKER_CONCURRENCY: String(concurrency),
      SKYWHISK_MEMORY_BUDGET_MB: String(actionMemoryMiB),
      SKYWHISK_LOG_LEVEL: props.logLevel ?? 'info',
      SKYWHISK_INVOKER_DRAIN_MS: String(DRAIN_MS),
      ...(props.runtimesManifest ? { [RUNTIMES_ENV]: props.runtimesManifest } : {}),
      // Controllers dispatch blocking activations to the task's private address (lib/invoker/dispatch-address.ts).
      ...(props.directDispatch ? { SKYWHISK_DISPATCH_HOST: '0.0.0.0', SKYWHISK_DISPATCH_PORT: String(props.directDispatch.port) } : {}),
    };
    const container = {
      image: ContainerImage.fromDockerImageAsset(props.images.invokerImage),
      essential: true,
      stopTimeout: STOP_TIMEOUT,
      logging: LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'invoker' }),
      // Read by the ECS agent into the invoker's environment at start; the invoker drops it from
      // its environment before it starts anything.
      ...(props.directDispatch ? { secrets: { SKYWHISK_DISPATCH_SECRET: EcsSecret.fromSecretsManager(props.directDispatch.secret) } } : {}),
    };
    // Unique within the fleet's own cluster; the mode in it, since a change of mode replaces the service.
    this.serviceName = `invokers-${props.mode}`;
    this.serviceArn = Stack.of(this).formatArn({ service: 'ecs', resource: 'service', resourceName: `${this.cluster.clusterName}/${this.serviceName}` });
    const deployment = { serviceName: this.serviceName, minHealthyPercent: 0, maxHealthyPercent: 200, circuitBreaker: { rollback: true } };

    if (props.mode === 'ec2') {
      const taskDefinition = new Ec2TaskDefinition(this, 'TaskDefinition', {
        // The invoker is on the host network (its task role through the agent's credentials endpoint);
        // action containers are on the instance's action network, reached at their bridge addresses.
        networkMode: NetworkMode.HOST,
        // Host PIDs: the invoker gives each action container a user of its own that no process on
        // the instance has (lib/invoker/action-users.ts). On the action network blackbox images are
        // reached at their address, so no namespace is entered and no extra capability is needed.
        pidMode: PidMode.HOST,
      });
      taskDefinition.addVolume({ name: 'docker-socket', host: { sourcePath: '/var/run/docker.sock' } });
      // Each runtime's unix socket and token live in a host directory mounted into its container
      // and, at the same path, into the invoker: runtimes have no port on any network.
      taskDefinition.addVolume({ name: 'runtime-channels', host: { sourcePath: RUNTIME_CHANNEL_DIR } });
      const linuxParameters = new LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true });
      const invoker = taskDefinition.addContainer('Invoker', {
        ...container,
        memoryReservationMiB: 512,
        linuxParameters,
        environment: {
          ...environment,
          SKYWHISK_CONTAINER_FACTORY: 'docker',
          // The bridge network the instance's user data made for actions, firewalled off the
          // metadata and credentials endpoints, the VPC and the host (infra/constructs/action-network.ts).
          SKYWHISK_DOCKER_NETWORK: ACTION_NETWORK,
          SKYWHISK_RUNTIME_CHANNEL_DIR: RUNTIME_CHANNEL_DIR,
          SKYWHISK_RUNTIME_IMAGES: Stack.of(this).toJsonString(props.images.manifest),
          // One invoker per instance: whatever skywhisk containers are on it were left by a predecessor.
          SKYWHISK_EXCLUSIVE_HOST: 'true',
        },
      });
      invoker.addMountPoints(
        { sourceVolume: 'docker-socket', containerPath: '/var/run/docker.sock', readOnly: false },
        { sourceVolume: 'runtime-channels', containerPath: RUNTIME_CHANNEL_DIR, readOnly: false },
      );
      props.images.grantPull(taskDefinition.taskRole);

      this.securityGroup = new SecurityGroup(this, 'InstanceSecurityGroup', { vpc, description: 'Skywhisk invoker instances: outbound only', allowAllOutbound: true });
      const capacityProvider = new AsgCapacityProvider(this, 'Capacity', {
        autoScalingGroup: this.containerInstances(vpc, this.securityGroup, architecture, instanceType, maxTasks),
        enableManagedScaling: true,
        // Off, so managed scaling can take the group to zero instances with the service.
        enableManagedTerminationProtection: false,
        targetCapacityPercent: 100,
      });
      // A zero taskDrainTime leaves out the Lambda-and-SNS drain hook: the capacity provider's managed
      // draining (on by default) drains instances before they stop. aws-cdk-lib 2.x still honours the
      // option, though it left the type.
      const noDrainHook = { taskDrainTime: Duration.seconds(0) } as AddAutoScalingGroupCapacityOptions;
      this.cluster.addAsgCapacityProvider(capacityProvider, noDrainHook);
      this.taskDefinition = taskDefinition;
      this.service = new Ec2Service(this, 'Service', {
        cluster: this.cluster,
        taskDefinition,
        capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
        // Host ports and the host's Docker engine: one invoker per instance.
        placementConstraints: [PlacementConstraint.distinctInstances()],
        ...deployment,
      });
      // The strategy names the capacity provider, which must be associated with the cluster first.
      this.service.node.addDependency(this.cluster);
    } else {
      const taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
        cpu,
        memoryLimitMiB: memoryMiB,
        runtimePlatform: {
          cpuArchitecture: architecture === 'arm64' ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
          operatingSystemFamily: OperatingSystemFamily.LINUX,
        },
      });
      taskDefinition.addContainer('Invoker', {
        ...container,
        environment: {
          ...environment,
          SKYWHISK_CONTAINER_FACTORY: 'process',
          // bubblewrap where the platform allows user namespaces, else plain processes as an unprivileged user.
          SKYWHISK_SANDBOX: 'auto',
        },
      });
      const securityGroup = new SecurityGroup(this, 'TaskSecurityGroup', { vpc, description: 'Skywhisk invokers: outbound only', allowAllOutbound: true });
      this.securityGroup = securityGroup;
      this.taskDefinition = taskDefinition;
      this.service = new FargateService(this, 'Service', {
        cluster: this.cluster,
        taskDefinition,
        assignPublicIp: true,
        vpcSubnets: { subnetType: SubnetType.PUBLIC },
        securityGroups: [securityGroup],
        ...deployment,
      });
    }
    grantInvokerAccess(this.taskDefinition.taskRole, props.store, props.bus);
    acknowledgeNag(this.taskDefinition, {
      'AwsSolutions-ECS2': 'The environment holds table and queue names, the API URL, runtime image URIs and sizes: no secrets (credentials come from the task role).',
      'AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken (the ECR login of the execution role, and in ec2 mode of the task role) has no resource-level permissions; the pulls themselves are limited to the asset repository.',
    });
    this.wakeEnvironment = { SKYWHISK_INVOKER_CLUSTER: this.cluster.clusterArn, SKYWHISK_INVOKER_SERVICE: this.serviceName };
    scaleFleet(this, { service: this.service, serviceArn: this.serviceArn, serviceEnvironment: this.wakeEnvironment, store: props.store, bus: props.bus, minTasks, maxTasks, backlogPerTask, fleetName });

  }

  /** Lets `peer` (the controllers) reach the invokers' dispatch port, and nothing else of them. */
  public allowDispatchFrom(peer: IConnectable): void {
    if (this.dispatchPort === undefined) throw new Error('InvokerFleet: allowDispatchFrom needs the directDispatch prop.');
    this.securityGroup.connections.allowFrom(peer, Port.tcp(this.dispatchPort), 'Direct dispatch of blocking activations from controllers');
  }

  /** Lets `grantee` wake the fleet: read the service and set its desired count (nothing else). */
  public grantWake(grantee: IGrantable): Grant {
    return grantDesiredCount(grantee, this.serviceArn);
  }

  private defaultVpc(): Vpc {
    return platformVpc(this, 'Vpc', [{ name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }]);
  }

  /**
   * ec2 mode's container instances: ECS-optimized Amazon Linux 2023, IMDSv2 only with a hop limit of
   * 1 (a container behind Docker's NAT gets no token), the action network and its firewall, an
   * encrypted root volume, public subnets.
   */
  private containerInstances(vpc: IVpc, securityGroup: SecurityGroup, architecture: ImageArchitecture, instanceType: InstanceType, maxTasks: number): AutoScalingGroup {
    const userData = UserData.forLinux();
    // Action containers run on a Docker bridge that may not reach the metadata service, the ECS
    // credentials endpoint, the VPC or the host; the invoker checks that before it runs anything.
    userData.addCommands(...actionNetworkUserData(vpcCidrOf(vpc)));
    const role = new Role(this, 'InstanceRole', { assumedBy: new ServicePrincipal('ec2.amazonaws.com') });
    const launchTemplate = new LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: EcsOptimizedImage.amazonLinux2023(architecture === 'arm64' ? AmiHardwareType.ARM : AmiHardwareType.STANDARD),
      instanceType,
      requireImdsv2: true,
      httpEndpoint: true,
      httpPutResponseHopLimit: 1,
      httpProtocolIpv6: false,
      associatePublicIpAddress: true,
      securityGroup,
      userData,
      role,
      blockDevices: [{ deviceName: '/dev/xvda', volume: BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: EbsDeviceVolumeType.GP3 }) }],
    });
    const group = new AutoScalingGroup(this, 'Instances', {
      vpc,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: 0,
      maxCapacity: maxTasks,
    });
    acknowledgeNag(role, {
      'AwsSolutions-IAM5[Resource::*]': 'The ECS agent statements the cluster adds (DiscoverPollEndpoint, ECR login, its own logs) have no resource-level permissions; the rest are conditioned on this cluster.',
      'AwsSolutions-IAM5[Action::ecs:Submit*]': "ecs:Submit* is the ECS agent's state reporting, on this cluster only, as the ECS instance role needs.",
    });
    acknowledgeNag(group, {
      'AwsSolutions-AS3': 'Instances come and go with the invoker tasks (managed scaling, to zero when idle); operators are told about failed tasks and errors through the Operations topic instead.',
    });
    return group;
  }
}

/** The VPC's CIDR, or undefined for an imported VPC that was not given one (the private ranges still apply). */
function vpcCidrOf(vpc: IVpc): string | undefined {
  try {
    return vpc.vpcCidrBlock;
  } catch {
    return undefined;
  }
}

interface CheckedProps {
  mode: InvokerMode;
  minTasks: number;
  maxTasks: number;
  backlogPerTask: number;
  architecture: ImageArchitecture;
  instanceType: InstanceType;
  cpu: number;
  memoryMiB: number;
  actionMemoryMiB: number;
  concurrency: number;
  images: RuntimeImages;
}

/** Every problem with the props, in one error. */
function validate(props: CheckedProps): void {
  const problems: string[] = [];
  const count = (name: keyof CheckedProps, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer of at least ${min} (got ${value}).`);
  };
  if (!['ec2', 'fargate'].includes(props.mode)) problems.push(`mode must be 'ec2' or 'fargate' (got '${props.mode}').`);
  count('minTasks', props.minTasks, 0);
  count('maxTasks', props.maxTasks, 1);
  count('backlogPerTask', props.backlogPerTask, 1);
  count('concurrency', props.concurrency, 1);
  count('actionMemoryMiB', props.actionMemoryMiB, 128);
  if (props.minTasks > props.maxTasks) problems.push(`minTasks (${props.minTasks}) is above maxTasks (${props.maxTasks}).`);
  if (props.architecture !== props.images.architecture) {
    problems.push(`architecture '${props.architecture}' differs from the images' ('${props.images.architecture}'): build the RuntimeImages for '${props.architecture}'.`);
  }
  if (props.mode === 'ec2') {
    const wanted = props.architecture === 'arm64' ? InstanceArchitecture.ARM_64 : InstanceArchitecture.X86_64;
    if (props.instanceType.architecture !== wanted) problems.push(`instanceType ${props.instanceType} is not an ${props.architecture} instance type.`);
    if (Object.keys(props.images.manifest).length === 0) problems.push('ec2 mode runs the action runtime images: build them (RuntimeImages actionRuntimes: true).');
  } else {
    count('cpu', props.cpu, 256);
    count('memoryMiB', props.memoryMiB, 512);
    if (props.actionMemoryMiB >= props.memoryMiB) problems.push(`actionMemoryMiB (${props.actionMemoryMiB}) must leave the invoker some of the task's memoryMiB (${props.memoryMiB}).`);
  }
  if (problems.length) throw new Error(`InvokerFleet: ${problems.join(' ')}`);
}
