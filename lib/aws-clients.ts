import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS clients. Endpoints, region and credentials come from the SDK's own environment
 * configuration unless given. One exception: when an SQS endpoint is configured, queue URLs
 * returned by an emulator may name hosts that do not resolve (`sqs.us-east-1.localhost`), so the
 * client keeps using the configured endpoint instead of the URL's host.
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

export function createAwsClients(settings: AwsSettings = {}, env: NodeJS.ProcessEnv = process.env): AwsClients {
  const sqsEndpointConfigured = Boolean(settings.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...settings }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({ ...settings, useQueueUrlAsEndpoint: !sqsEndpointConfigured });
  return { dynamo, sqs };
}

let shared: AwsClients | undefined;

/** The process's clients, configured from the environment, built once. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
