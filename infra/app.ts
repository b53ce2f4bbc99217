import { App } from 'aws-cdk-lib';
import { deploymentContext } from './app-context';
import { SkywhiskStack } from './skywhisk-stack';

const app = new App();
const context = deploymentContext((key) => app.node.tryGetContext(key));
new SkywhiskStack(app, context.stackName, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context.region ?? process.env.CDK_DEFAULT_REGION },
  description: `Skywhisk: OpenWhisk-compatible FaaS (${context.invokerMode} invokers)`,
  removalPolicy: context.removalPolicy,
  invokerMode: context.invokerMode,
  minInvokers: context.minInvokers,
  maxInvokers: context.maxInvokers,
  instanceType: context.instanceType,
  architecture: context.architecture,
  directDispatch: context.directDispatch,
  runtimesManifest: context.runtimesManifest,
  actionLimits: context.actionLimits,
  localstackEdge: context.localstackEdge,
  controllerConcurrency: context.controllerConcurrency,
});
