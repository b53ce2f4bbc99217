import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LEVELDB_MAX_OPEN_FILES } from '../../lib/local/dynalite-loader';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

/** The embedded endpoint's table files mapped into its memory (LevelDB maps each one it keeps open). */
function mappedTableFiles(pid: number, dataDir: string): number {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n');
  return new Set(maps.map((line) => line.slice(line.indexOf('/'))).filter((path) => path.startsWith(dataDir) && path.endsWith('.ldb'))).size;
}

describe('the embedded endpoint keeps its memory bounded as its data grows', () => {
  let endpoint: EmbeddedEndpoint;
  beforeAll(async () => {
    endpoint = await startEmbeddedEndpoint('memory-test');
  }, 60_000);
  afterAll(() => endpoint?.stop());

  it('maps at most its bound of table files after storing and reading back far more of them', async () => {
    const { dynamo } = endpoint.clients;
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'bulk',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    // 640 items of 300 KB that do not compress: about 190 MB, some 95 table files of 2 MB.
    const items = 640;
    for (let i = 0; i < items; i += 4) {
      await Promise.all(
        [0, 1, 2, 3].map((j) => dynamo.send(new PutCommand({ TableName: 'bulk', Item: { pk: `item-${i + j}`, body: randomBytes(225 * 1024).toString('base64') } }))),
      );
    }
    // Reading everything back, a page at a time, opens every table file.
    let read = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(new ScanCommand({ TableName: 'bulk', ExclusiveStartKey, ProjectionExpression: 'pk' }));
      read += page.Items?.length ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    expect(read).toBe(items);
    const mapped = mappedTableFiles(endpoint.pid, endpoint.dataDir);
    expect(mapped).toBeGreaterThan(10);
    // LevelDB keeps all but 10 of its open files for tables. Before the bound and the closing of
    // iterators, this left 131 table files mapped.
    expect(mapped).toBeLessThanOrEqual(LEVELDB_MAX_OPEN_FILES - 10);
  }, 120_000);
});
