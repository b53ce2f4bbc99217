import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { readBodyUpTo } from '../read-body';
import { verifySignature, type EndpointCredentials } from './sigv4-verify';
import { QueueJournal } from './queue-journal';
import { durableSqsStore } from './durable-sqs-store';
import { loadDynalite } from './dynalite-loader';
import { CONNECTION_MESSAGE, CONNECTION_TAKEN, SERVING_STOPS } from './held-port';

/**
 * The embedded AWS-compatible endpoint: DynamoDB (dynalite, LevelDB on disk) and SQS (fauxqs, AWS
 * JSON 1.0) behind one loopback port, routed by `X-Amz-Target` like LocalStack's edge port, so
 * every client needs only `AWS_ENDPOINT_URL`. Neither emulator listens where action code can
 * reach it: the first request of each connection is read whole, its SigV4 signature verified
 * against the platform's secret key, and replayed into the emulator's handler in-process; the
 * connection's later requests go straight to the handler.
 *
 * fauxqs keeps messages in memory; every change to them is journalled under `<data dir>/sqs`
 * before it is answered (see queue-journal.ts), so a SIGKILL at any moment loses no accepted
 * message and brings back none that was deleted.
 */
export interface EmbeddedEndpoint {
  port: number;
  url: string;
  /** Calls served since start, by operation (`GetItem`, `SendMessage`, ...). */
  callCounts(): Record<string, number>;
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

/** What endpoints before the journal wrote on a clean stop (`sqs-snapshot.json`): read once, then removed. */
interface QueueSnapshot {
  name: string;
  attributes: Record<string, string>;
  bodies: string[];
}

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

/** Larger than any DynamoDB or SQS request (a 16 MB batch write); anything bigger is refused unread. */
const MAX_REQUEST_BYTES = 17 * 1024 * 1024;

/**
 * The request again, with the body already read: a stream of that body carrying the original's
 * line, headers and socket, which is all the emulators' handlers read.
 */
function replay(original: IncomingMessage, body: Buffer): IncomingMessage {
  const stream = new PassThrough();
  Object.assign(stream, {
    method: original.method,
    url: original.url,
    headers: original.headers,
    rawHeaders: original.rawHeaders,
    httpVersion: original.httpVersion,
    httpVersionMajor: original.httpVersionMajor,
    httpVersionMinor: original.httpVersionMinor,
    socket: original.socket,
    connection: original.socket,
  });
  stream.end(body);
  return stream as unknown as IncomingMessage;
}

function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: type, message }));
}


export interface EndpointOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /**
   * Serve the connections the parent process hands over (see held-port.ts) on this port, which
   * the parent holds, instead of listening.
   */
  heldPort?: number;
  /**
   * The only credentials the endpoint accepts: the first request of every connection must carry a
   * valid SigV4 signature made with them. Unset, it accepts any request (only tests that own the
   * whole machine do that).
   */
  credentials?: EndpointCredentials;
}

/** Where the endpoint process writes its call counts on SIGUSR2, under its data dir. */
export const CALL_COUNTS_FILE = 'call-counts.json';

/** A unix socket path has at most 107 bytes. */
const MAX_SOCKET_PATH = 100;

/**
 * Where dynalite's socket goes: under the (private) data dir, where the next start finds and
 * replaces what a killed endpoint left; a temporary directory when that path would be too long.
 */
function dynaliteSocketDir(dataDir: string): string {
  const dir = join(dataDir, 'run');
  if (join(dir, 'dynalite.sock').length > MAX_SOCKET_PATH) return mkdtempSync(join(tmpdir(), 'skywhisk-endpoint-'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

export async function startEndpoint(options: EndpointOptions): Promise<EmbeddedEndpoint> {
  const host = options.host ?? '127.0.0.1';
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(options.dataDir, 0o700);
  // dynalite returns an http.Server whose request handler we reuse.
  const dynamo = loadDynalite()({ path: join(options.dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // dynalite closes LevelDB cleanly only from a listening server. It listens on a unix socket in a
  // directory only this process's user can enter: a TCP port would be reachable from action code
  // on the same loopback, and dynalite accepts any credentials.
  const privateDir = dynaliteSocketDir(options.dataDir);
  await new Promise<void>((resolve) => dynamo.listen(join(privateDir, 'dynalite.sock'), () => resolve()));

  const journal = new QueueJournal(join(options.dataDir, 'sqs'));
  const sqsStore = await durableSqsStore(journal, journal.recover());
  const { buildApp } = (await import('fauxqs')) as unknown as { buildApp(opts: object): FastifyLike };
  const sqs = buildApp({ logger: false, host: `${host}`, stores: { sqsStore } });
  await sqs.ready();

  const snapshotFile = join(options.dataDir, 'sqs-snapshot.json');
  if (existsSync(snapshotFile)) {
    await restoreQueues(sqs, JSON.parse(readFileSync(snapshotFile, 'utf8')) as QueueSnapshot[]);
    rmSync(snapshotFile);
  }

  const calls = new Map<string, number>();
  const dispatch = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.headers['x-amz-target'];
    // Store and queue calls by operation, for benchmarks (`callCounts`, or SIGUSR2 in endpoint-main).
    const operation = typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : 'unknown';
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    if (typeof target === 'string' && target.startsWith('DynamoDB_')) dynamo.emit('request', req, res);
    else sqs.routing(req, res);
  };
  /**
   * Connections whose first request carried a valid signature. A TCP connection belongs to the
   * process that opened it (no other local process can write into it), so later requests on it
   * come from the same key holder; checking each again cost about 1.4 ms of the endpoint's CPU
   * per activation (the SDK keeps connections alive).
   */
  const verifiedConnections = new WeakSet<object>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!options.credentials || verifiedConnections.has(req.socket)) return dispatch(req, res);
    const body = await readBodyUpTo(req, MAX_REQUEST_BYTES);
    if (body === undefined) return awsError(res, 413, 'RequestEntityTooLarge', 'The request is too large.');
    // The emulators accept anything, and action code runs on the same loopback: the signature is
    // checked here, so only holders of the platform's secret key reach the tables and queues.
    if (!(await verifySignature({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body }, options.credentials))) {
      res.setHeader('connection', 'close');
      return awsError(res, 403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    verifiedConnections.add(req.socket);
    dispatch(replay(req, body), res);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) awsError(res, 500, 'InternalFailure', (error as Error).message);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  let port: number;
  let announceStopping = () => undefined as void;
  if (options.heldPort !== undefined) {
    port = options.heldPort;
    const take = (message: { type?: unknown; id?: unknown } | undefined, socket: unknown) => {
      if (message?.type !== CONNECTION_MESSAGE || !(socket instanceof Socket)) return;
      // The parent closes its copy once told: the connection is this process's now.
      process.send?.({ type: CONNECTION_TAKEN, id: message.id });
      server.emit('connection', socket);
      socket.resume();
    };
    process.on('message', take);
    announceStopping = () => {
      // New connections wait in the parent for the next endpoint instead of reaching this one.
      if (process.connected) process.send?.({ type: SERVING_STOPS });
    };
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  }

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      announceStopping();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sqs.close();
      journal.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      rmSync(privateDir, { recursive: true, force: true });
    })());
  return { port, url: `http://${host}:${port}`, callCounts: () => Object.fromEntries(calls), stop };
}
