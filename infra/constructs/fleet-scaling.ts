import { Duration } from 'aws-cdk-lib';
import { AdjustmentType, MetricAggregationType, StepScalingAction } from 'aws-cdk-lib/aws-applicationautoscaling';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationScalingAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { BaseService } from 'aws-cdk-lib/aws-ecs';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { ACTIVATIONS_IN_FLIGHT, ACTIVATIONS_STARTED, FLEET_DIMENSION, FLEET_METRICS_NAMESPACE } from '../../lib/fleet/activity-metrics';
import { acknowledgeNag, LAMBDA_FINDINGS } from '../nag';
import type { Bus } from './bus';
import { platformEnvironment } from './platform-access';
import { platformFunction } from './platform-function';
import type { Store } from './store';

/** Minutes without any activation before the fleet goes back to its minimum. */
export const SCALE_IN_MINUTES = 15;
/** How often the sleeper looks again, besides when the idle alarm enters ALARM. */
const SLEEPER_EVERY_MINUTES = 5;

export interface FleetScalingProps {
  readonly service: BaseService;
  /** The service's ARN as the fleet knows it without a reference to the service. */
  readonly serviceArn: string;
  /** What names the cluster and the service to whoever sets its count (InvokerFleet.wakeEnvironment). */
  readonly serviceEnvironment: Record<string, string>;
  readonly store: Store;
  readonly bus: Bus;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly backlogPerTask: number;
  /** The fleet's name in the invokers' activity metrics (their `SKYWHISK_FLEET_METRICS`). */
  readonly fleetName: string;
}

/** Lets `grantee` read the invoker service (by its ARN) and set its desired count (nothing else). */
export function grantDesiredCount(grantee: IGrantable, serviceArn: string): Grant {
  return Grant.addToPrincipal({ grantee, actions: ['ecs:DescribeServices', 'ecs:UpdateService'], resourceArns: [serviceArn] });
}

/**
 * How the invoker fleet follows its work, in `scope` (the fleet).
 * - Out: step scaling on the queue's backlog (visible plus in-flight messages) with exact
 *   capacities: a backlog of 1 to `backlogPerTask - 1` wants max(1, minTasks) invokers, each
 *   further `backlogPerTask` one more, up to `maxTasks`. From zero the controller's waker is faster
 *   (lib/controller/fleet-waker.ts).
 * - In: back to `minTasks` after SCALE_IN_MINUTES in which no activation started or ran anywhere
 *   and the queue held nothing. The idle alarm reads the invokers' own metrics (they see direct
 *   dispatches the queue never carries) and has no scaling action, which would run again every
 *   minute it stays in ALARM and undo a wake. Its change into ALARM, and a schedule every
 *   SLEEPER_EVERY_MINUTES, run the sleeper (lib/fleet/sleeper.ts), which decides from the
 *   invokers' heartbeats, the queue and the service.
 */
export function scaleFleet(scope: Construct, props: FleetScalingProps): void {
  const { service, bus, minTasks, maxTasks, backlogPerTask } = props;
  const scaling = service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: maxTasks });
  const period = Duration.minutes(1);
  const queue = bus.invocationQueue;
  const visible = queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' });
  const inFlight = queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum' });
  const backlog = new MathExpression({
    expression: 'visible + inFlight',
    usingMetrics: { visible, inFlight },
    label: 'Invocation backlog (waiting + in flight)',
    period,
  });

  // Busy: backlog ≥ 1. Bounds are relative to the alarm threshold (1).
  const scaleOut = new StepScalingAction(scope, 'ScaleOnBacklog', {
    scalingTarget: scaling,
    adjustmentType: AdjustmentType.EXACT_CAPACITY,
    metricAggregationType: MetricAggregationType.MAXIMUM,
    cooldown: Duration.minutes(5),
  });
  for (const step of backlogSteps(minTasks, maxTasks, backlogPerTask)) {
    scaleOut.addAdjustment({ lowerBound: step.lower - 1, upperBound: step.upper === undefined ? undefined : step.upper - 1, adjustment: step.tasks });
  }
  new Alarm(scope, 'BacklogAlarm', {
    metric: backlog,
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: 'Invocations are waiting or running: size the invoker fleet to the backlog.',
  }).addAlarmAction(new ApplicationScalingAction(scaleOut));

  // Idle: nothing queued, started or running for SCALE_IN_MINUTES. A series with no point in a
  // minute (no invoker running, or an idle queue that stopped publishing) counts as 0 there.
  const fleetMetric = (metricName: string, statistic: string) =>
    new Metric({ namespace: FLEET_METRICS_NAMESPACE, metricName, dimensionsMap: { [FLEET_DIMENSION]: props.fleetName }, period, statistic });
  const activity = new MathExpression({
    expression: 'FILL(visible, 0) + FILL(inFlight, 0) + FILL(started, 0) + FILL(running, 0)',
    usingMetrics: { visible, inFlight, started: fleetMetric(ACTIVATIONS_STARTED, 'Sum'), running: fleetMetric(ACTIVATIONS_IN_FLIGHT, 'Maximum') },
    label: 'Invocations queued, started or running',
    period,
  });
  const idle = new Alarm(scope, 'IdleAlarm', {
    metric: activity,
    threshold: 0,
    comparisonOperator: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: SCALE_IN_MINUTES,
    datapointsToAlarm: SCALE_IN_MINUTES,
    treatMissingData: TreatMissingData.BREACHING,
    alarmDescription: `No invocation queued, started or running for ${SCALE_IN_MINUTES} minutes: the fleet sleeper takes it back to the minimum invoker count.`,
  });
  new FleetSleeper(scope, 'Sleeper', { ...props, idleAlarm: idle });
}

interface FleetSleeperProps extends FleetScalingProps {
  readonly idleAlarm: Alarm;
}

/** The function that scales an idle fleet in, run when the idle alarm enters ALARM and every few minutes. */
class FleetSleeper extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: FleetSleeperProps) {
    super(scope, id);
    this.function = platformFunction(this, 'Function', {
      entry: 'functions/fleet-sleeper/handler.ts',
      timeout: Duration.seconds(30),
      environment: {
        ...platformEnvironment(props.store, props.bus),
        ...props.serviceEnvironment,
        SKYWHISK_FLEET_MIN_TASKS: String(props.minTasks),
        SKYWHISK_FLEET_IDLE_MINUTES: String(SCALE_IN_MINUTES),
      },
    });
    acknowledgeNag(this.function, LAMBDA_FINDINGS);
    grantDesiredCount(this.function, props.serviceArn);
    // Whether the queue holds anything (its URL looked up by name), and the invokers' reports.
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: [props.bus.invocationQueue.queueArn] }));
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [props.store.coordination.tableArn] }));
    new Rule(this, 'OnIdle', {
      description: 'Runs the fleet sleeper once when the invoker fleet has been idle long enough',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: [props.idleAlarm.alarmArn],
        detail: { state: { value: ['ALARM'] } },
      },
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    // Again and again: a look that found the fleet busy (or starting) is repeated until it is idle.
    new Rule(this, 'Every5Minutes', {
      description: 'Runs the fleet sleeper, which scales in only a fleet idle long enough',
      schedule: Schedule.rate(Duration.minutes(SLEEPER_EVERY_MINUTES)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}

/**
 * The exact task counts by absolute backlog: [lower, upper) → tasks. [1, per) → max(1, min), each
 * further `per` one more, the last step open-ended at `max`. Steps wanting the same count merge.
 */
export function backlogSteps(minTasks: number, maxTasks: number, backlogPerTask: number): Array<{ lower: number; upper?: number; tasks: number }> {
  const steps: Array<{ lower: number; upper?: number; tasks: number }> = [];
  for (let k = 1; k <= maxTasks; k++) {
    const tasks = Math.min(maxTasks, Math.max(k, minTasks));
    const lower = k === 1 ? 1 : (k - 1) * backlogPerTask;
    const upper = k === maxTasks ? undefined : k * backlogPerTask;
    const previous = steps[steps.length - 1];
    if (previous && previous.tasks === tasks) previous.upper = upper;
    else steps.push({ lower, upper, tasks });
  }
  return steps;
}
