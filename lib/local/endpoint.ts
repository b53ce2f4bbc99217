import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

/**
 * The embedded AWS-compatible endpoint: DynamoDB (dynalite, LevelDB on disk) and SQS (fauxqs, AWS
 * JSON 1.0) behind one loopback port, routed by `X-Amz-Target` like LocalStack's edge port, so
 * every client needs only `AWS_ENDPOINT_URL`. Neither emulator listens itself: requests are
 * dispatched into their handlers in-process.
 *
 * fauxqs keeps messages in memory; on stop the endpoint writes every queue (with its ready,
 * delayed and in-flight messages) to `sqs-snapshot.json` and restores it on the next start.
 */
export interface EmbeddedEndpoint {
  port: number;
  url: string;
  stop(): Promise<void>;
}

interface FastifyLike {
  ready(): Promise<unknown>;
  routing(req: IncomingMessage, res: ServerResponse): void;
  inject(options: { method: string; url: string; headers?: Record<string, string>; payload?: string }): Promise<{
    statusCode: number;
    json(): unknown;
  }>;
  close(): Promise<unknown>;
}

interface QueueSnapshot {
  name: string;
  attributes: Record<string, string>;
  bodies: string[];
}

const SETTABLE_QUEUE_ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'RedrivePolicy',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
  'FifoQueue',
  'ContentBasedDeduplication',
];

async function sqsCall(app: FastifyLike, operation: string, body: object): Promise<unknown> {
  const response = await app.inject({
    method: 'POST',
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${operation}` },
    payload: JSON.stringify(body),
  });
  if (response.statusCode >= 300) throw new Error(`SQS ${operation} failed: ${JSON.stringify(response.json())}`);
  return response.json();
}

async function snapshotQueues(app: FastifyLike): Promise<QueueSnapshot[]> {
  const queues = (await app.inject({ method: 'GET', url: '/_fauxqs/queues' })).json() as Array<{ name: string }>;
  const snapshots: QueueSnapshot[] = [];
  for (const { name } of queues) {
    const detail = (await app.inject({ method: 'GET', url: `/_fauxqs/queues/${encodeURIComponent(name)}` })).json() as {
      attributes: Record<string, string>;
      messages: { ready: Array<{ body: string }>; delayed: Array<{ body: string }>; inflight: Array<{ message: { body: string } }> };
    };
    const attributes = Object.fromEntries(
      Object.entries(detail.attributes).filter(([key]) => SETTABLE_QUEUE_ATTRIBUTES.includes(key)),
    );
    // In-flight messages belonged to consumers that are gone once the endpoint stops; they come
    // back as ready (the invoker's claim keeps a redelivered activation from running twice).
    const bodies = [
      ...detail.messages.inflight.map((m) => m.message.body),
      ...detail.messages.ready.map((m) => m.body),
      ...detail.messages.delayed.map((m) => m.body),
    ];
    snapshots.push({ name, attributes, bodies });
  }
  return snapshots;
}

async function restoreQueues(app: FastifyLike, snapshots: QueueSnapshot[]): Promise<void> {
  // Dead-letter queues first, so redrive policies point at queues that exist.
  const ordered = [...snapshots].sort((a, b) => Number('RedrivePolicy' in a.attributes) - Number('RedrivePolicy' in b.attributes));
  for (const queue of ordered) {
    const { QueueUrl } = (await sqsCall(app, 'CreateQueue', { QueueName: queue.name, Attributes: queue.attributes })) as {
      QueueUrl: string;
    };
    for (const body of queue.bodies) await sqsCall(app, 'SendMessage', { QueueUrl, MessageBody: body });
  }
}

/**
 * Whether a request is signed with the platform's access key id. The emulators accept any
 * credentials, and action code runs on the same loopback, so the endpoint itself refuses requests
 * that do not name the key the supervisor generated (SigV4 `Credential=<key id>/...`). The
 * signature is not verified; the key id is random and never given to actions.
 */
export function signedWith(authorization: string | undefined, accessKeyId: string): boolean {
  const match = /Credential=([^/,\s]+)\//.exec(authorization ?? '');
  return match?.[1] === accessKeyId;
}

export async function startEndpoint(options: { dataDir: string; port?: number; host?: string; accessKeyId?: string }): Promise<EmbeddedEndpoint> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDir, { recursive: true });
  // dynalite is CommonJS without types; it returns an http.Server whose request handler we reuse.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (opts: object) => Server;
  const dynamo = dynalite({ path: join(options.dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite only closes LevelDB cleanly from a listening server; it gets an unused loopback port.
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));

  const { buildApp } = (await import('fauxqs')) as unknown as { buildApp(opts: object): FastifyLike };
  const sqs = buildApp({ logger: false, host: `${host}` });
  await sqs.ready();

  const snapshotFile = join(options.dataDir, 'sqs-snapshot.json');
  if (existsSync(snapshotFile)) {
    await restoreQueues(sqs, JSON.parse(readFileSync(snapshotFile, 'utf8')) as QueueSnapshot[]);
  }

  const server = createServer((req, res) => {
    if (options.accessKeyId && !signedWith(req.headers.authorization, options.accessKeyId)) {
      res.writeHead(403, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }));
      return;
    }
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string' && target.startsWith('DynamoDB_')) dynamo.emit('request', req, res);
    else sqs.routing(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const snapshot = await snapshotQueues(sqs);
      writeFileSync(`${snapshotFile}.tmp`, JSON.stringify(snapshot));
      renameSync(`${snapshotFile}.tmp`, snapshotFile);
      await sqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    })());
  return { port, url: `http://${host}:${port}`, stop };
}
