import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { marshallOptions } from '@aws-sdk/util-dynamodb';
import { LeanDynamo } from './store/lean-dynamo';

/**
 * AWS clients. Endpoints, region and credentials come from the SDK's own environment
 * configuration unless given. Two exceptions: when an SQS endpoint is configured, queue URLs
 * returned by an emulator may name hosts that do not resolve (`sqs.us-east-1.localhost`), so the
 * client keeps using the configured endpoint instead of the URL's host; and with a configured
 * DynamoDB endpoint, single-item calls take the lean path (see LeanDynamo) unless
 * `SKYWHISK_LEAN_DYNAMO=false`.
 */
export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
}

export interface AwsSettings {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const MARSHALLING: marshallOptions = { removeUndefinedValues: true, convertClassInstanceToMap: false };

/** Routes the document client's single-item calls through the lean path, once it knows its endpoint. */
function withLeanPath(dynamo: DynamoDBDocumentClient, base: DynamoDBClient): void {
  let lean: Promise<LeanDynamo | undefined> | undefined;
  const viaSdk = dynamo.send.bind(dynamo) as (command: unknown, ...rest: unknown[]) => Promise<unknown>;
  const send = async (command: unknown, ...rest: unknown[]): Promise<unknown> => {
    // An options argument or a callback is the SDK's business.
    if (rest.length > 0) return viaSdk(command, ...rest);
    lean ??= LeanDynamo.forConfiguredEndpoint(base, MARSHALLING).catch(() => undefined);
    const path = await lean;
    if (!path?.accepts(command)) return viaSdk(command);
    return path.send(command, () => viaSdk(command));
  };
  dynamo.send = send as typeof dynamo.send;
  const destroy = dynamo.destroy.bind(dynamo);
  dynamo.destroy = () => {
    void lean?.then((path) => path?.close());
    destroy();
  };
}

export function createAwsClients(settings: AwsSettings = {}, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const sqsEndpointConfigured = Boolean(settings.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL);
  const base = new DynamoDBClient({ ...settings });
  // Its own copy: lib-dynamodb writes into the options object it is given.
  const dynamo = DynamoDBDocumentClient.from(base, { marshallOptions: { ...MARSHALLING } });
  if (env.SKYWHISK_LEAN_DYNAMO !== 'false') withLeanPath(dynamo, base);
  const sqs = new SQSClient({ ...settings, useQueueUrlAsEndpoint: !sqsEndpointConfigured });
  return { dynamo, sqs };
}

let shared: AwsClients | undefined;

/** The process's clients, configured from the environment, built once. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
