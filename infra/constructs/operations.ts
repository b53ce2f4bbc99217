import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEAD_LETTERS_RECORDED, FLEET_DIMENSION, FLEET_METRICS_NAMESPACE } from '../../lib/fleet/activity-metrics';

export interface OperationsProps {
  /** The invoker fleet's name in its activity metrics (InvokerFleet.fleetName): they count the dead letters recorded. */
  readonly fleetName: string;
  /** The controller function: its errors are an alarm. */
  readonly controller: IFunction;
  /** The invoker fleet's log group: error lines (pino level 50 and above) are an alarm. */
  readonly invokerLogGroup: ILogGroup;
  /** The invoker fleet's cluster ARN: tasks stopping with a failure are reported. */
  readonly invokerClusterArn: string;
  /**
   * Period over which each alarm evaluates.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/**
 * What an operator is told about: CloudWatch alarms on the dead-letter queue, controller errors and
 * invoker error logs, plus invoker tasks that stop with a failure, all sent to one SNS topic
 * (encrypted, TLS only) that the operator subscribes to.
 */
export class Operations extends Construct {
  public readonly topic: Topic;
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const period = props.period ?? Duration.minutes(5);
    // CloudWatch cannot publish to a topic under the AWS-managed SNS key: a key of our own, rotated.
    const key = new Key(this, 'AlertsKey', { enableKeyRotation: true, description: 'Skywhisk operator alerts topic' });
    this.topic = new Topic(this, 'Alerts', { enforceSSL: true, masterKey: key });
    // CloudWatch publishes as its service principal: only for this account's alarms in this region
    // (the confused deputy), in the key's policy and the topic's (which replaces SNS's default one).
    const stack = Stack.of(this);
    const fromOwnAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    };
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    key.addToResourcePolicy(new PolicyStatement({ principals: [cloudWatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions: fromOwnAlarms }));
    this.topic.addToResourcePolicy(new PolicyStatement({ principals: [cloudWatch], actions: ['sns:Publish'], resources: [this.topic.topicArn], conditions: fromOwnAlarms }));
    // EventBridge's KMS requests carry no source account or ARN to condition on, so its rule
    // publishes through a role of its own instead of a service principal in either policy.
    const publisher = new Role(this, 'AlertsPublisher', {
      description: 'Assumed by EventBridge to send Skywhisk invoker task failures to the alerts topic',
      assumedBy: new ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }) },
      }),
    });
    // What publishing to the encrypted topic takes, spelled out (a grant would add a wildcard action).
    publisher.addToPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    publisher.addToPolicy(new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }));
    const alarm = (name: string, metric: IMetric, description: string) => {
      const created = new Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.topic));
      this.alarms.push(created);
    };
    // New dead letters, as the invokers' drainer records their activations. The queue's depth
    // would not do: the drainer keeps what it recorded there for operators (hidden), so an alarm on
    // it stays in ALARM for days after the first and tells of no later one.
    const recorded = new Metric({ namespace: FLEET_METRICS_NAMESPACE, metricName: DEAD_LETTERS_RECORDED, dimensionsMap: { [FLEET_DIMENSION]: props.fleetName }, period, statistic: 'Sum' });
    alarm('DeadLetters', recorded, 'Activation messages reached the dead-letter queue: their activations were recorded as whisk internal errors.');

    alarm('ControllerErrors', props.controller.metricErrors({ period, statistic: 'Sum' }), 'The controller function failed.');
    // Errors do not count throttles: with a reserved concurrency, API clients then see 500s.
    alarm('ControllerThrottles', props.controller.metricThrottles({ period, statistic: 'Sum' }), 'The controller function was throttled: API requests were refused.');
    const invokerErrors = new MetricFilter(this, 'InvokerErrorLines', {
      logGroup: props.invokerLogGroup,
      filterPattern: FilterPattern.numberValue('$.level', '>=', 50),
      metricNamespace: 'Skywhisk',
      metricName: 'InvokerErrors',
      metricValue: '1',
    });
    alarm('InvokerErrors', invokerErrors.metric({ period, statistic: 'Sum' }), 'An invoker logged an error.');
    new Rule(this, 'InvokerTaskFailures', {
      description: 'Invoker tasks that stopped because a container failed',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: { clusterArn: [props.invokerClusterArn], lastStatus: ['STOPPED'], stopCode: ['EssentialContainerExited', 'TaskFailedToStart'] },
      },
      // The topic through the role above; events-targets' SnsTopic would grant the role a wildcard KMS action.
      targets: [{ bind: () => ({ arn: this.topic.topicArn, role: publisher }) }],
    });
  }
}
