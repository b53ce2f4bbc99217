import { FlowLogDestination, FlowLogTrafficType, GatewayVpcEndpointAwsService, Vpc, type SubnetConfiguration } from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeNag, wildcardFinding } from '../nag';

/**
 * A VPC for Skywhisk in 2 AZs with no NAT gateway, `subnets` as given, and:
 * - flow logs of all traffic to a log group kept a month: the VPC runs tenant code, and what it
 *   sent and where is the first question after an incident (a flow log costs nothing at rest);
 * - gateway endpoints for DynamoDB and S3 (free) in every subnet, so table calls and image layer
 *   pulls (ECR keeps layers in S3) stay on AWS's network.
 */
export function platformVpc(scope: Construct, id: string, subnets: SubnetConfiguration[]): Vpc {
  const vpc = new Vpc(scope, id, {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: subnets,
    // Nothing is placed in the default security group: every resource here has its own.
    restrictDefaultSecurityGroup: false,
  });
  const logGroup = new LogGroup(vpc, 'FlowLogGroup', { retention: RetentionDays.ONE_MONTH });
  const flowLog = vpc.addFlowLog('FlowLogs', { destination: FlowLogDestination.toCloudWatchLogs(logGroup), trafficType: FlowLogTrafficType.ALL });
  acknowledgeNag(flowLog, { [wildcardFinding(logGroup, ':*')]: "The flow log service writes log streams of its own group only (the group's streams are `<group ARN>:*`)." });
  vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB });
  vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
  return vpc;
}
