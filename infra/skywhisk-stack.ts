import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { InstanceType } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { parseActionLimitRanges } from '../lib/model/limits';
import { checkedRuntimesManifest } from './runtimes-manifest';
import { AlarmSchedules } from './constructs/alarm-schedules';
import { Bootstrap } from './constructs/bootstrap';
import { Bus } from './constructs/bus';
import { Controller } from './constructs/controller';
import { DISPATCH_PORT, DispatchNetwork } from './constructs/dispatch-network';
import { InvokerFleet, type InvokerMode } from './constructs/invoker-fleet';
import { Operations } from './constructs/operations';
import { RuntimeImages, type ImageArchitecture } from './constructs/runtime-images';
import { Store } from './constructs/store';

export interface SkywhiskStackProps extends StackProps {
  /**
   * Removal policy of the tables.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How invokers run actions: `ec2` (Docker containers on ECS instances, warm pools) or `fargate`
   * (processes in Fargate tasks).
   * @default 'ec2'
   */
  readonly invokerMode?: InvokerMode;
  /**
   * Fewest invoker tasks; 0 lets the fleet scale to zero (the controller wakes it).
   * @default 0
   */
  readonly minInvokers?: number;
  /**
   * Most invoker tasks.
   * @default 4
   */
  readonly maxInvokers?: number;
  /**
   * ec2 mode: the container instances' type.
   * @default t4g.large for arm64, t3.large for x86_64
   */
  readonly instanceType?: string;
  /**
   * CPU architecture of the functions, images and instances.
   * @default 'arm64'
   */
  readonly architecture?: ImageArchitecture;
  /**
   * Blocking invokes go straight from the controller to an invoker, whose answer carries the record
   * (no queue round trip, no polling). The controller function then runs in the invokers' VPC,
   * which adds interface endpoints (SQS, Secrets Manager, ECS, EventBridge Scheduler) at a fixed
   * hourly cost; without it every activation goes through the queue.
   * @default false
   */
  readonly directDispatch?: boolean;
  /**
   * A runtimes manifest in OpenWhisk's runtimes.json format (its text): its kinds replace the
   * built-in ones on the controller and the invokers. Images that are not Skywhisk's are pulled by
   * ec2 invokers; fargate invokers run only Skywhisk's kinds, and the controller refuses the others.
   * @default the built-in kinds (nodejs:22, nodejs:20, python:3.11)
   */
  readonly runtimesManifest?: string;
  /**
   * Action limit ranges (`SKYWHISK_ACTION_LIMITS`) as JSON, e.g. `{"memory":{"max":4096}}`: each of
   * timeout, memory, logs and concurrency with an optional min, max and default.
   * @default OpenWhisk's: timeout 100 ms..5 min (1 min), memory 128..512 MB (256), logs 0..10 MB, concurrency 1..500
   */
  readonly actionLimits?: string;
  /**
   * Deploying to a LocalStack: its edge as clients reach it (`host:port`), for the API host the
   * stack prints and gives actions (`http://<api id>.execute-api.<edge>/<stage>`).
   * @default none: AWS's `https://<api id>.execute-api.<region>.amazonaws.com/<stage>`
   */
  readonly localstackEdge?: string;
  /**
   * Concurrent executions reserved for the controller function, which are also its most (see
   * ControllerProps.reservedConcurrency; the account's quota must be at least this plus 100).
   * @default none
   */
  readonly controllerConcurrency?: number;
}

/** What of the environment a manifest may take: a Lambda function's variables hold 4 KB in all. */
const MANIFEST_BUDGET_BYTES = 2048;

/** Skywhisk in one stack: one construct per component, wired by grants and environment. */
export class SkywhiskStack extends Stack {
  public readonly store: Store;
  public readonly bus: Bus;
  public readonly controller: Controller;
  public readonly images: RuntimeImages;
  public readonly invokers: InvokerFleet;
  public readonly alarms: AlarmSchedules;
  public readonly bootstrap: Bootstrap;
  public readonly operations: Operations;
  /** With `directDispatch`: the VPC, endpoints and secret the direct path needs. */
  public readonly dispatchNetwork?: DispatchNetwork;

  constructor(scope: Construct, id: string, props: SkywhiskStackProps = {}) {
    super(scope, id, props);
    this.store = new Store(this, 'Store', { removalPolicy: props.removalPolicy });
    this.bus = new Bus(this, 'Bus');
    this.dispatchNetwork = props.directDispatch ? new DispatchNetwork(this, 'Dispatch') : undefined;
    const network = this.dispatchNetwork;
    const mode = props.invokerMode ?? 'ec2';
    const runtimesManifest = props.runtimesManifest === undefined ? undefined : checkedRuntimesManifest(props.runtimesManifest, 'runtimesManifest');
    if (runtimesManifest && Buffer.byteLength(runtimesManifest) > MANIFEST_BUDGET_BYTES) {
      throw new Error(`runtimesManifest: ${Buffer.byteLength(runtimesManifest)} bytes as compact JSON, above the ${MANIFEST_BUDGET_BYTES} a function's environment can spare; list fewer kinds or stem cells.`);
    }
    // A bad value fails the synth with its problem, not the controller's first request.
    if (props.actionLimits !== undefined) parseActionLimitRanges(props.actionLimits, 'actionLimits');
    this.controller = new Controller(this, 'Controller', {
      localstackEdge: props.localstackEdge,
      reservedConcurrency: props.controllerConcurrency,
      actionsAsProcesses: mode === 'fargate',
      runtimesManifest,
      actionLimits: props.actionLimits,
      store: this.store,
      bus: this.bus,
      directDispatch: network && {
        network: { vpc: network.vpc, subnets: network.controllerSubnets, securityGroup: network.controllerSecurityGroup },
        secret: network.secret,
      },
    });
    this.images = new RuntimeImages(this, 'RuntimeImages', { architecture: props.architecture, actionRuntimes: mode === 'ec2' });
    this.invokers = new InvokerFleet(this, 'Invokers', {
      mode,
      store: this.store,
      bus: this.bus,
      images: this.images,
      apiHost: this.controller.apiHost,
      runtimesManifest,
      minTasks: props.minInvokers,
      maxTasks: props.maxInvokers,
      instanceType: props.instanceType ? new InstanceType(props.instanceType) : undefined,
      vpc: network?.vpc,
      directDispatch: network && { secret: network.secret, port: DISPATCH_PORT },
    });
    if (network) {
      this.invokers.allowDispatchFrom(network.controllerSecurityGroup);
      network.admitToEndpoints(this.invokers.securityGroup);
    }
    // The controller wakes a fleet at zero as it enqueues.
    for (const [name, value] of Object.entries(this.invokers.wakeEnvironment)) this.controller.function.addEnvironment(name, value);
    this.invokers.grantWake(this.controller.function);

    // The alarms feed: the controller makes EventBridge schedules that invoke the fire function.
    this.alarms = new AlarmSchedules(this, 'Alarms', { store: this.store, bus: this.bus });
    this.alarms.grantManage(this.controller.function);
    // An alarm's fire enqueues too, and must wake a fleet at zero as the controller does.
    for (const [name, value] of Object.entries(this.invokers.wakeEnvironment)) this.alarms.fireFunction.addEnvironment(name, value);
    this.invokers.grantWake(this.alarms.fireFunction);

    this.bootstrap = new Bootstrap(this, 'Bootstrap', { subjectsTable: this.store.subjects, entitiesTable: this.store.entities, apiHost: this.controller.apiHost });
    this.operations = new Operations(this, 'Operations', {
      fleetName: this.invokers.fleetName,
      controller: this.controller.function,
      invokerLogGroup: this.invokers.logGroup,
      invokerClusterArn: this.invokers.cluster.clusterArn,
    });
  }
}
