import { Duration, Stack, Token } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { acknowledgeNag, LAMBDA_FINDINGS, wildcardFinding } from '../nag';
import type { Bus } from './bus';
import { platformFunction } from './platform-function';
import { grantControllerAccess, platformEnvironment } from './platform-access';
import type { Store } from './store';

export interface AlarmSchedulesProps {
  readonly store: Store;
  readonly bus: Bus;
  /**
   * Name of the schedule group holding one schedule per alarm.
   * @default '<stack name>-alarms'
   */
  readonly groupName?: string;
  /**
   * Retention of the fire function's logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/**
 * The alarms feed on AWS: an EventBridge Scheduler group in which the controller makes one schedule
 * per alarm (lib/alarms/eventbridge-scheduler.ts), the function those schedules invoke to fire
 * triggers (functions/alarm-fire), and the role Scheduler assumes to invoke it. `grantManage` lets
 * the controller create, change and remove the schedules.
 *
 * The fire function's code does not reach lib/alarms/package.ts (which reads feed-action.js from
 * disk), so unlike the bootstrap function it needs no file copied next to its bundle; a test keeps
 * it that way.
 */
export class AlarmSchedules extends Construct {
  public readonly group: ScheduleGroup;
  public readonly fireFunction: NodejsFunction;
  public readonly schedulerRole: Role;
  /** The group's name as a literal (the L2's attribute is a token). */
  private readonly groupName: string;

  constructor(scope: Construct, id: string, props: AlarmSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.groupName = props.groupName ?? `${stack.stackName}-alarms`;
    this.group = new ScheduleGroup(this, 'Group', { scheduleGroupName: this.groupName });

    this.fireFunction = platformFunction(this, 'FireFunction', {
      entry: 'functions/alarm-fire/handler.ts',
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: { ...platformEnvironment(props.store, props.bus), SKYWHISK_ALARM_SCHEDULE_GROUP: this.group.scheduleGroupName },
    });
    grantControllerAccess(this.fireFunction, props.store, props.bus);
    // A fired once alarm, or one whose trigger is gone, takes its schedule with it.
    this.group.grantDeleteSchedules(this.fireFunction);

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to invoke the Skywhisk alarm-fire function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.fireFunction.grantInvoke(this.schedulerRole);
    this.fireFunction.addEnvironment('SKYWHISK_ALARM_ROLE_ARN', this.schedulerRole.roleArn);

    acknowledgeNag(this.fireFunction, { ...LAMBDA_FINDINGS, ...this.scheduleWildcardFinding() });
    acknowledgeNag(this.schedulerRole, {
      [wildcardFinding(this.fireFunction, ':*')]: 'Scheduler may invoke any version of the alarm-fire function.',
    });
  }

  /** The IAM5 finding of a grant on the group's schedules, as cdk-nag names it. */
  private scheduleWildcardFinding(): Record<string, string> {
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const finding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${region}:${account}:schedule/${this.groupName}/*]`;
    return { [finding]: 'Schedules are named at run time, one per alarm, all inside this group.' };
  }

  /**
   * Lets `fn` (the controller) manage alarm schedules: its environment names the group, target and
   * role, and it may create, update, delete and read schedules in the group and pass the role to
   * Scheduler only.
   */
  public grantManage(fn: LambdaFunction): void {
    fn.addEnvironment('SKYWHISK_ALARM_SCHEDULE_GROUP', this.group.scheduleGroupName);
    fn.addEnvironment('SKYWHISK_ALARM_TARGET_ARN', this.fireFunction.functionArn);
    fn.addEnvironment('SKYWHISK_ALARM_ROLE_ARN', this.schedulerRole.roleArn);
    this.group.grantWriteSchedules(fn);
    this.group.grantDeleteSchedules(fn);
    acknowledgeNag(fn, this.scheduleWildcardFinding());
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
  }
}
