import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { ensureQueues } from '../../lib/bus/invocation-queue';
import { configFromEnv } from '../../lib/config';
import { startProcess, stopProcess } from '../../lib/local/processes';
import { ensureTables } from '../../lib/store/tables';

export interface EmbeddedEndpoint {
  url: string;
  /** The endpoint process, and the directory holding its tables and queue journal. */
  pid: number;
  dataDir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  clients: AwsClients;
  stop(): Promise<void>;
}

/**
 * The embedded DynamoDB and SQS endpoint as its own process (fauxqs is ESM, so it cannot run inside
 * jest), accepting only requests signed with `accessKeyId` and a secret made here, with the platform's tables and queues created.
 */
export async function startEmbeddedEndpoint(accessKeyId: string): Promise<EmbeddedEndpoint> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-endpoint-'));
  const credentials = { accessKeyId, secretAccessKey: randomBytes(20).toString('hex') };
  const endpoint = await startProcess(
    'endpoint',
    'local/endpoint-main.ts',
    { ...process.env, SKYWHISK_DATA_DIR: dataDir, SKYWHISK_ENDPOINT_PORT: '0', SKYWHISK_ENDPOINT_ACCESS_KEY_ID: accessKeyId, SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    join(dataDir, 'logs'),
  );
  const url = `http://127.0.0.1:${endpoint.ready.port}`;
  const clients = createAwsClients({ endpoint: url, region: 'us-east-1', credentials });
  const config = configFromEnv({});
  await ensureTables(clients.dynamo, config);
  await ensureQueues(clients.sqs, config.queues);
  return {
    url,
    pid: endpoint.child.pid!,
    dataDir,
    credentials,
    clients,
    async stop() {
      await stopProcess(endpoint, 5000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
