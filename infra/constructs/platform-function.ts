import type { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';

/**
 * How every Skywhisk function is bundled: esbuild (offline, no Docker), source maps, and the AWS
 * SDK inside the bundle: the runtime's own copy is a version the code was not tested with.
 */
export const FUNCTION_BUNDLING: BundlingOptions = {
  externalModules: [],
  minify: true,
  sourceMap: true,
  target: 'node22',
};

export interface PlatformFunctionProps {
  /** The handler module, from the repository root (functions/<name>/handler.ts). */
  readonly entry: string;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  /** @default 128 (Lambda's default) */
  readonly memorySize?: number;
  /** @default none: the function shares the account's unreserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Added to FUNCTION_BUNDLING (e.g. command hooks). */
  readonly bundling?: Partial<BundlingOptions>;
  /** @default none: the function runs outside any VPC */
  readonly network?: { readonly vpc: IVpc; readonly subnets: SubnetSelection; readonly securityGroup: ISecurityGroup };
}

/**
 * Lets Lambda manage a function's network interfaces in a VPC: what AWSLambdaVPCAccessExecutionRole
 * grants but its logs on every group. These EC2 actions have no resource-level permissions.
 */
const NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * A Skywhisk Lambda function: nodejs22.x on arm64, source maps on, its own log group (`Logs`, a
 * sibling in `scope`) with retention, and a role (`<id>ServiceRole`) that may write to that log
 * group only, instead of AWSLambdaBasicExecutionRole's logs on every group.
 */
export function platformFunction(scope: Construct, id: string, props: PlatformFunctionProps): NodejsFunction {
  const logGroup = new LogGroup(scope, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
  // In the role itself, not a separate policy: Lambda checks the network interface rights when it
  // creates a function in a VPC, which a policy attached a moment earlier may not have reached.
  const networkInterfaces = props.network
    ? { NetworkInterfaces: new PolicyDocument({ statements: [new PolicyStatement({ actions: NETWORK_INTERFACE_ACTIONS, resources: ['*'] })] }) }
    : undefined;
  const role = new Role(scope, `${id}ServiceRole`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), inlinePolicies: networkInterfaces });
  // The group's ARN attribute ends in `:*`: its log streams.
  role.addToPolicy(new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
  if (props.network) {
    acknowledgeNag(role, { 'AwsSolutions-IAM5[Resource::*]': "Lambda's management of the function's network interfaces in its VPC: these EC2 actions have no resource-level permissions." });
  }
  return new NodejsFunction(scope, id, {
    entry: props.entry,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    reservedConcurrentExecutions: props.reservedConcurrentExecutions,
    timeout: props.timeout,
    role,
    logGroup,
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: { ...FUNCTION_BUNDLING, ...props.bundling },
    ...(props.network ? { vpc: props.network.vpc, vpcSubnets: props.network.subnets, securityGroups: [props.network.securityGroup] } : {}),
  });
}
