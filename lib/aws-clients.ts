import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * AWS clients built once per process. Endpoints, region and credentials come from the SDK's own
 * environment configuration. One exception: when an SQS endpoint is configured, queue URLs
 * returned by an emulator may name hosts that do not resolve (`sqs.us-east-1.localhost`), so the
 * client is told to keep using the configured endpoint instead of the URL's host.
 */
export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
}

let clients: AwsClients | undefined;

export function awsClients(): AwsClients {
  if (clients) return clients;
  const endpointConfigured = Boolean(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: !endpointConfigured });
  clients = { dynamo, sqs };
  return clients;
}
