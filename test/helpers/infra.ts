import type { Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { acknowledgeNag, LAMBDA_FINDINGS } from '../../infra/nag';

/** A function standing in for the controller in construct tests: inline code, no bundling. */
export function standInController(stack: Stack): LambdaFunction {
  const controller = new LambdaFunction(stack, 'StandInController', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler = () => {}') });
  acknowledgeNag(controller, LAMBDA_FINDINGS);
  return controller;
}
