import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Well under DynamoDB's 400 KB item limit, with room for the key and other attributes. */
export const CHUNK_BYTES = 300 * 1024;

/**
 * Writes `data` as items of at most `CHUNK_BYTES` each (`itemOf(n)` gives chunk n's key and other
 * attributes; its bytes go in `data`), all at once; returns how many. Callers write the item that
 * names the chunks afterwards, so it never names chunks that are not there.
 */
export async function putChunks(
  dynamo: DynamoDBDocumentClient,
  table: string,
  data: Uint8Array,
  itemOf: (n: number) => Record<string, unknown>,
): Promise<number> {
  const count = Math.ceil(data.length / CHUNK_BYTES);
  await Promise.all(
    Array.from({ length: count }, (_, n) =>
      dynamo.send(new PutCommand({ TableName: table, Item: { ...itemOf(n), data: data.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES) } })),
    ),
  );
  return count;
}
