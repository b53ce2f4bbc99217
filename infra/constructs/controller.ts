import { Aws, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseTransferMode,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ACTION_LIMITS_ENV } from '../../lib/model/limits';
import { ACTIONS_AS_PROCESSES_ENV, RUNTIMES_ENV } from '../../lib/model/runtimes';
import { acknowledgeNag, LAMBDA_FINDINGS } from '../nag';
import type { Bus } from './bus';
import { grantControllerAccess, platformEnvironment } from './platform-access';
import { platformFunction, type PlatformFunctionProps } from './platform-function';
import type { Store } from './store';

/**
 * OpenWhisk's longest blocking wait. The API streams the function's answer (a buffered REST
 * integration ends at 29 s; a streamed one may last 15 minutes), so the wait can be OpenWhisk's.
 */
export const MAX_BLOCKING_WAIT_MS = 60_000;
/** After its wait the function still writes its answer (the 202) and returns: this much more. */
const ANSWER_MARGIN_MS = 5_000;

export interface ControllerProps {
  readonly store: Store;
  readonly bus: Bus;
  /**
   * Longest blocking invoke before the controller answers 202 with the activation id, as OpenWhisk
   * does after its own wait (at most its 60 s).
   * @default 60_000
   */
  readonly blockingWaitMs?: number;
  /**
   * Memory of the controller function (also buys CPU).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Concurrent executions reserved for (and the most allowed to) the controller function. Blocking
   * invokes hold an execution for up to a minute each, so a cold or saturated fleet could otherwise
   * take the account's whole concurrency from its other functions. Lambda keeps 100 executions
   * unreserved: the account's quota must be at least this plus 100.
   * @default none: the controller shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * Steady-state requests per second the API stage accepts before answering 429.
   * @default 1000
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst of requests the API stage accepts above the rate.
   * @default 2000
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Name of the API stage (the last part of the API host).
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Retention of the function's logs and the API's access logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Direct dispatch: the function runs in the invokers' VPC (`network`) and reads `secret` at a
   * cold start to post blocking activations to them.
   * @default none: blocking activations go through the queue
   */
  readonly directDispatch?: { readonly network: NonNullable<PlatformFunctionProps['network']>; readonly secret: ISecret };
  /**
   * The invokers run actions as processes (fargate mode): actions that need an image (blackbox,
   * native) are refused when they are created, since no invoker could run them.
   * @default false
   */
  readonly actionsAsProcesses?: boolean;
  /** The deployment's runtimes manifest (compact JSON in OpenWhisk's format), as `SKYWHISK_RUNTIMES`. */
  readonly runtimesManifest?: string;
  /** Action limit ranges as JSON, as `SKYWHISK_ACTION_LIMITS`. */
  readonly actionLimits?: string;
  /**
   * A LocalStack's edge (`host:port`): the API host is then LocalStack's URL for the API.
   * @default none: the API's AWS URL
   */
  readonly localstackEdge?: string;
}

/**
 * The controller: OpenWhisk's REST API as one Lambda function (the same Hono app `npm start` serves)
 * behind an API Gateway REST API: `GET /`, `GET /api/v1`, `/api/v1/{proxy+}`, the API management routes
 * under `/api/{proxy+}` and the unauthenticated
 * web actions under `/api/v1/web/{proxy+}`. Authentication is OpenWhisk's basic auth, checked by the
 * function against the subjects table.
 */
export class Controller extends Construct {
  public readonly function: NodejsFunction;
  public readonly api: RestApi;
  /** What clients use as `apihost`: the stage URL, without a trailing slash. */
  public readonly apiHost: string;

  constructor(scope: Construct, id: string, props: ControllerProps) {
    super(scope, id);
    const blockingWaitMs = props.blockingWaitMs ?? MAX_BLOCKING_WAIT_MS;
    if (!Number.isInteger(blockingWaitMs) || blockingWaitMs < 1000 || blockingWaitMs > MAX_BLOCKING_WAIT_MS) {
      throw new Error(`Controller: blockingWaitMs must be a whole number of ms from 1000 to ${MAX_BLOCKING_WAIT_MS} (OpenWhisk's longest blocking wait); got ${blockingWaitMs}.`);
    }
    const functionTimeout = Duration.seconds(Math.ceil((blockingWaitMs + ANSWER_MARGIN_MS) / 1000));
    const rate = props.throttlingRateLimit ?? 1000;
    const burst = props.throttlingBurstLimit ?? 2000;
    if (!(rate > 0) || !Number.isInteger(burst) || burst < 1) {
      throw new Error(`Controller: throttling needs a positive rate and a burst of at least 1; got rate ${rate}, burst ${burst}.`);
    }
    if (props.reservedConcurrency !== undefined && !(Number.isInteger(props.reservedConcurrency) && props.reservedConcurrency >= 1)) {
      throw new Error(`Controller: reservedConcurrency must be a whole number of at least 1; got ${props.reservedConcurrency}.`);
    }
    const retention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const stageName = props.stageName ?? 'prod';

    this.function = platformFunction(this, 'Function', {
      entry: 'functions/controller/handler.ts',
      memorySize: props.memorySize ?? 1024,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // Past the blocking wait, the function still writes its 202 and returns.
      timeout: functionTimeout,
      logRetention: retention,
      environment: {
        ...platformEnvironment(props.store, props.bus),
        SKYWHISK_MAX_BLOCKING_WAIT_MS: String(blockingWaitMs),
        ...(props.actionsAsProcesses ? { [ACTIONS_AS_PROCESSES_ENV]: 'true' } : {}),
        ...(props.runtimesManifest ? { [RUNTIMES_ENV]: props.runtimesManifest } : {}),
        ...(props.actionLimits ? { [ACTION_LIMITS_ENV]: props.actionLimits } : {}),
        ...(props.directDispatch ? { SKYWHISK_DISPATCH_SECRET_ARN: props.directDispatch.secret.secretArn } : {}),
      },
      network: props.directDispatch?.network,
    });
    grantControllerAccess(this.function, props.store, props.bus);
    props.directDispatch?.secret.grantRead(this.function);

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention });
    this.api = new RestApi(this, 'Api', {
      description: 'Skywhisk: the OpenWhisk REST API',
      endpointTypes: [EndpointType.REGIONAL],
      // Web actions answer binary bodies (base64 from the function); every type passes through.
      binaryMediaTypes: ['*/*'],
      // API Gateway needs an account-level role to write logs; it is created with the API.
      cloudWatchRole: true,
      deployOptions: {
        stageName,
        throttlingRateLimit: rate,
        throttlingBurstLimit: burst,
        loggingLevel: MethodLoggingLevel.ERROR,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: false,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: false,
        }),
      },
    });
    // Streamed (functions/controller/handler.ts streams its answers), so the integration may outlast
    // API Gateway's 29 s: it ends a second after the function would.
    const integration = new LambdaIntegration(this.function, {
      responseTransferMode: ResponseTransferMode.STREAM,
      timeout: functionTimeout.plus(Duration.seconds(1)),
    });
    this.api.root.addMethod('GET', integration);
    const apiRoot = this.api.root.addResource('api');
    // API management routes, `/api/<namespace>/<basePath>/<relPath>` (a static `v1` wins over it).
    apiRoot.addResource('{proxy+}').addMethod('ANY', integration);
    const v1 = apiRoot.addResource('v1');
    v1.addMethod('GET', integration);
    v1.addResource('{proxy+}').addMethod('ANY', integration);
    v1.addResource('web').addResource('{proxy+}').addMethod('ANY', integration);
    // Operators' invoker status (OpenWhisk serves it outside /api/v1 too).
    const invokers = this.api.root.addResource('invokers');
    invokers.addMethod('GET', integration);
    invokers.addResource('details').addMethod('GET', integration);
    // Adobe I/O Runtime's extension routes (log forwarding settings), which aio reads.
    this.api.root.addResource('runtime').addResource('{proxy+}').addMethod('ANY', integration);

    // From the API's id and the literal stage name only: invokers take this host, and the function
    // takes the invoker service's name, so a reference to the stage (which needs the function's
    // methods) would be a cycle.
    this.apiHost = props.localstackEdge
      ? `http://${this.api.restApiId}.execute-api.${props.localstackEdge}/${stageName}`
      : `https://${this.api.restApiId}.execute-api.${Stack.of(this).region}.${Aws.URL_SUFFIX}/${stageName}`;
    new CfnOutput(this, 'ApiHost', { value: this.apiHost, description: 'The OpenWhisk API host: wsk property set --apihost <this>' });

    acknowledgeNag(this.function, LAMBDA_FINDINGS);
    acknowledgeNag(this.api, {
      'AwsSolutions-APIG2': 'Every request is validated by the controller with zod, answering OpenWhisk-shaped 4xx errors that API Gateway models could not produce.',
      'AwsSolutions-APIG3': 'WAF is an operator choice with its own cost; the stage is throttled and the controller enforces per-namespace limits.',
      'AwsSolutions-APIG4': 'Authorization is OpenWhisk basic auth checked by the controller against hashed keys; web actions are public by OpenWhisk design.',
      'AwsSolutions-COG4': 'OpenWhisk clients authenticate with uuid:key basic auth, not Cognito tokens.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]':
        "API Gateway's account role only writes access and error logs.",
    });
  }
}
