import {
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ScanCommandInput,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** Every page of a Query, in order, from `input.ExclusiveStartKey` if given (break out of the loop to stop early). */
export async function* queryPages(dynamo: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<QueryCommandOutput> {
  let exclusiveStartKey = input.ExclusiveStartKey;
  do {
    const page = await dynamo.send(new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey }));
    yield page;
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
}

/** Every page of a Scan, in order, from `input.ExclusiveStartKey` if given (break out of the loop to stop early). */
export async function* scanPages(dynamo: DynamoDBDocumentClient, input: ScanCommandInput): AsyncGenerator<ScanCommandOutput> {
  let exclusiveStartKey = input.ExclusiveStartKey;
  do {
    const page = await dynamo.send(new ScanCommand({ ...input, ExclusiveStartKey: exclusiveStartKey }));
    yield page;
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
}
