import { App, RemovalPolicy } from 'aws-cdk-lib';
import { SkywhiskStack } from './skywhisk-stack';

const app = new App();
const removal = app.node.tryGetContext('removalPolicy') as string | undefined;
new SkywhiskStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'Skywhisk', {
  removalPolicy: removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
});
