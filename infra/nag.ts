import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag AwsSolutions findings on `scope` and everything under it, each with the
 * written reason it is accepted. `rule` is the id cdk-nag prints after `AwsSolutions::`, e.g.
 * `AwsSolutions-IAM4` or a single finding `AwsSolutions-IAM5[Resource::...]`.
 */
export function acknowledgeNag(scope: IConstruct, findings: Record<string, string>): void {
  // A function's role is its sibling (infra/constructs/platform-function.ts): what is said of the
  // function is said of the role and its policies too.
  const scopes = scope instanceof LambdaFunction && scope.role ? [scope, scope.role] : [scope];
  for (const target of scopes) {
    for (const [rule, reason] of Object.entries(findings)) Validations.of(target).acknowledge({ id: `AwsSolutions::${rule}`, reason });
  }
}

/**
 * Reasons shared by every Lambda function the stack creates. Skywhisk's own functions have scoped
 * roles (platform-function.ts); the managed policy is on the custom resource framework's.
 */
export const LAMBDA_FINDINGS = {
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
    'AWSLambdaBasicExecutionRole only grants writing to CloudWatch Logs, which every function needs.',
  'AwsSolutions-L1': 'Functions are pinned to nodejs22.x, the runtime Skywhisk is built and tested on; newer runtimes are adopted deliberately.',
} as const;

/** The IAM5 finding id of a wildcard on `resource`'s ARN, such as `<Table.Arn>/index/*`. */
export function wildcardFinding(resource: IConstruct, suffix: string): string {
  const logicalId = Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>${suffix}]`;
}
