import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';

/** Every page of a Query, in order (break out of the loop to stop early). */
export async function* queryPages(dynamo: DynamoDBDocumentClient, input: QueryCommandInput): AsyncGenerator<QueryCommandOutput> {
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(new QueryCommand({ ...input, ExclusiveStartKey: exclusiveStartKey }));
    yield page;
    exclusiveStartKey = page.LastEvaluatedKey;
  } while (exclusiveStartKey);
}
