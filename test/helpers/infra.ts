import { App, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bus } from '../../infra/constructs/bus';
import { Store } from '../../infra/constructs/store';
import { acknowledgeNag, LAMBDA_FINDINGS } from '../../infra/nag';

/** A function standing in for the controller in construct tests: inline code, no bundling. */
export function standInController(stack: Stack): LambdaFunction {
  const controller = new LambdaFunction(stack, 'StandInController', { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler = () => {}') });
  acknowledgeNag(controller, LAMBDA_FINDINGS);
  return controller;
}

/** An app that skips bundling (no esbuild run) with one stack in a fixed account, holding the data layer. */
export function dataLayerStack(): { app: App; stack: Stack; store: Store; bus: Bus } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  return { app, stack, store: new Store(stack, 'Store'), bus: new Bus(stack, 'Bus') };
}
