import {
  InterfaceVpcEndpointAwsService,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type IConnectable,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag';
import { platformVpc } from './platform-vpc';

/** The port invokers take direct dispatches on (their task's or instance's private address). */
export const DISPATCH_PORT = 8081;

/**
 * What direct dispatch needs on AWS: one VPC for the invokers (public subnets, as without it) and
 * the controller function (isolated subnets with no route out), the secret both sides hold, and
 * the endpoints the controller's calls need from inside the VPC: DynamoDB (a free gateway), SQS,
 * Secrets Manager, ECS (the fleet waker) and EventBridge Scheduler (the alarms feed), which the
 * invokers use too (private DNS names them for the whole VPC). The invokers admit the controller's
 * security group on the dispatch port only (InvokerFleet.allowDispatchFrom).
 */
export class DispatchNetwork extends Construct {
  public readonly vpc: Vpc;
  public readonly controllerSubnets: SubnetSelection = { subnetType: SubnetType.PRIVATE_ISOLATED };
  public readonly controllerSecurityGroup: SecurityGroup;
  public readonly secret: Secret;
  private readonly endpointSecurityGroup: SecurityGroup;

  /**
   * Lets `peer` (the invokers, whose SQS, Secrets Manager and ECS calls private DNS also sends to
   * the endpoints) use the interface endpoints.
   */
  public admitToEndpoints(peer: IConnectable): void {
    this.endpointSecurityGroup.connections.allowFrom(peer, Port.tcp(443), 'HTTPS from the invokers');
  }

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // With flow logs, and DynamoDB's gateway endpoint in every subnet, the controller's among them.
    this.vpc = platformVpc(this, 'Vpc', [
      { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'Controller', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ]);
    const services = {
      Sqs: InterfaceVpcEndpointAwsService.SQS,
      SecretsManager: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Ecs: InterfaceVpcEndpointAwsService.ECS,
      Scheduler: new InterfaceVpcEndpointAwsService('scheduler'),
    };
    this.controllerSecurityGroup = new SecurityGroup(this, 'ControllerSecurityGroup', {
      vpc: this.vpc,
      description: 'Skywhisk controller: out to the VPC endpoints and the invokers dispatch port',
      allowAllOutbound: true,
    });
    // Private DNS sends every caller in the VPC to the endpoints, the invokers and their ECS agents
    // too: they admit the controller here and the invokers through admitToEndpoints.
    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', { vpc: this.vpc, description: 'Skywhisk VPC endpoints: HTTPS from the controller', allowAllOutbound: false });
    const endpointSecurityGroup = this.endpointSecurityGroup;
    endpointSecurityGroup.connections.allowFrom(this.controllerSecurityGroup, Port.tcp(443), 'HTTPS from the controller');
    for (const [name, service] of Object.entries(services)) {
      this.vpc.addInterfaceEndpoint(name, { service, subnets: this.controllerSubnets, privateDnsEnabled: true, open: false, securityGroups: [endpointSecurityGroup] });
    }
    this.secret = new Secret(this, 'DispatchSecret', {
      description: 'Skywhisk: what controllers show invokers to dispatch activations to them',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledgeNag(this.secret, {
      'AwsSolutions-SMG4': 'Both sides read the secret once at start; rotating it would need every invoker and controller restarted together. Replacing the secret and redeploying rotates it.',
    });
  }
}
