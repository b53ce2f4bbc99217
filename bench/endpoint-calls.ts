import { startEndpoint } from '../lib/local/endpoint';
import { createAwsClients } from '../lib/aws-clients';
import { configFromEnv } from '../lib/config';
import { ensureTables } from '../lib/store/tables';
import { ensureQueues, InvocationQueue } from '../lib/bus/invocation-queue';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from './stats';

/**
 * Per-call latency of the embedded endpoint (DynamoDB and SQS through one port), sequential, one
 * client: the unit cost behind every step of an invoke. Prints figures.
 *   npx tsx bench/endpoint-calls.ts
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-endpoint-bench-'));
  const ep = await startEndpoint({ dataDir, credentials: { accessKeyId: 'AK', secretAccessKey: 's' } });
  console.log('embedded endpoint, 500 sequential calls each (after 100 warm-up)');
  const c = createAwsClients({ endpoint: ep.url, region: 'us-east-1', credentials: { accessKeyId: 'AK', secretAccessKey: 's' } });
  const cfg = configFromEnv({}); await ensureTables(c.dynamo, cfg); await ensureQueues(c.sqs, cfg.queues);
  const q = new InvocationQueue(c.sqs, cfg.queues.invoke);
  const time = async (label: string, fn: (i: number) => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < 600; i++) {
      const t = performance.now();
      await fn(i);
      if (i >= 100) samples.push(performance.now() - t);
    }
    const r = summarize(samples);
    console.log(`${label.padEnd(28)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`);
  };
  await time('PutItem', (i) => c.dynamo.send(new PutCommand({ TableName: cfg.tables.entities, Item: { namespace: 'n', key: 'k' + i, doc: { a: 1 } } })));
  await time('GetItem', (i) => c.dynamo.send(new GetCommand({ TableName: cfg.tables.entities, Key: { namespace: 'n', key: 'k' + i } })));
  await time('SendMessage', () => q.sendRaw('x'));
  await time('ReceiveMessage+Delete', async () => { const [m] = await q.receive(1, 1); await q.delete(m.receiptHandle); });
  await ep.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

void main();
