import type { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

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
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Added to FUNCTION_BUNDLING (e.g. command hooks). */
  readonly bundling?: Partial<BundlingOptions>;
  /** @default none: the function runs outside any VPC */
  readonly network?: { readonly vpc: IVpc; readonly subnets: SubnetSelection; readonly securityGroup: ISecurityGroup };
}

/**
 * A Skywhisk Lambda function: nodejs22.x on arm64, source maps on, its own log group (`Logs`, a
 * sibling in `scope`) with retention.
 */
export function platformFunction(scope: Construct, id: string, props: PlatformFunctionProps): NodejsFunction {
  return new NodejsFunction(scope, id, {
    entry: props.entry,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    logGroup: new LogGroup(scope, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH }),
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: { ...FUNCTION_BUNDLING, ...props.bundling },
    ...(props.network ? { vpc: props.network.vpc, vpcSubnets: props.network.subnets, securityGroups: [props.network.securityGroup] } : {}),
  });
}
