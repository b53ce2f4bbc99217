import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { activationMessageSchema, type ActivationMessage } from '../model/activation';
import { readBodyUpTo } from '../read-body';
import type { DirectOutcome } from './invoker';

/**
 * The invoker's direct dispatch endpoint: a controller posts a blocking activation's message and
 * gets its record on the same response, instead of a queue round trip and polling the store.
 * Action code shares this network (the host's loopback locally, the VPC on AWS), so every request
 * must carry the platform's dispatch secret, which no action can read.
 *
 *   POST /activations   authorization: Bearer <secret>   body: an activation message
 *   401  no or wrong secret (nothing runs)
 *   503  no room here, or stopping: the controller tries another invoker, or the queue
 *   409  running here already (a repeat of a dispatch that did arrive): its record comes from there
 *   (`x-skywhisk-sent-at`: when the controller sent it; one that waited in a socket through a
 *   stall of this process is claimed in the store before it runs, or refused if recorded)
 *   200  sent the moment it is accepted, before it runs (`x-skywhisk-accepted: true`, and the
 *        process that runs it in `x-skywhisk-holder`), so a controller never puts on the queue an
 *        activation that may be running; the body, once the record is stored, is
 *        `{"record": ...}`, or `{"stored": false}` when another process recorded it.
 *   GET /activations    the admitted activations running here, for the slot reconciler:
 *        `{"running": [{"namespace", "activationId"}]}`
 *
 * An accepted activation has no claim in the store while it runs: the controller that dispatched
 * it writes one in the holder's name if the answer does not come back (see runBlocking).
 */
export const DISPATCH_PATH = '/activations';
export const ACCEPTED_HEADER = 'x-skywhisk-accepted';
export const HOLDER_HEADER = 'x-skywhisk-holder';
/** When the controller sent the dispatch (epoch ms): one that waited long may have been given up on. */
export const SENT_AT_HEADER = 'x-skywhisk-sent-at';

/** An activation message is at most 1 MB (an SQS message); anything much bigger is refused unread. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface DispatchServer {
  port: number;
  close(): Promise<void>;
}

export type RunDirect = (message: ActivationMessage, sentAt: number | undefined, onAccepted: () => void) => Promise<DirectOutcome>;

/** An admitted activation running on an invoker. */
export interface RunningActivation {
  namespace: string;
  activationId: string;
}

/** What the dispatch server serves: runs a dispatched activation, and lists those running. */
export interface DirectRunner {
  runDirect: RunDirect;
  running: () => RunningActivation[];
  /** The process that runs what it accepts (`id/instance`). */
  holder: string;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function reply(res: ServerResponse, status: number, body: object, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify(body));
}


export function startDispatchServer(options: { secret: string; host: string; port: number }, runner: () => DirectRunner | undefined, onError: (error: unknown) => void): Promise<DispatchServer> {
  const expected = digest(`Bearer ${options.secret}`);
  const authorized = (req: IncomingMessage) => timingSafeEqual(digest(req.headers.authorization ?? ''), expected);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authorized(req)) return reply(res, 401, { error: 'The dispatch secret is missing or wrong.' }, true);
    if (req.url !== DISPATCH_PATH || (req.method !== 'POST' && req.method !== 'GET')) return reply(res, 404, { error: 'not found' });
    const current = runner();
    if (!current) return reply(res, 503, { error: 'starting' });
    if (req.method === 'GET') return reply(res, 200, { running: current.running() });
    const body = await readBodyUpTo(req, MAX_BODY_BYTES);
    if (body === undefined) return reply(res, 413, { error: 'The activation message is too large.' }, true);
    const text = body.toString('utf8');
    let message: ActivationMessage;
    try {
      message = activationMessageSchema.parse(JSON.parse(text));
    } catch {
      return reply(res, 400, { error: 'Not an activation message.' });
    }
    const sentAt = Number(req.headers[SENT_AT_HEADER]);
    const outcome = await current.runDirect(message, Number.isFinite(sentAt) ? sentAt : undefined, () => {
      res.writeHead(200, { 'content-type': 'application/json', [ACCEPTED_HEADER]: 'true', [HOLDER_HEADER]: current.holder });
      res.flushHeaders();
    });
    // A controller that went away meanwhile misses the answer; the record is stored all the same.
    if (outcome.outcome === 'full') return reply(res, 503, { error: 'full' });
    if (outcome.outcome === 'taken') {
      res.setHeader(HOLDER_HEADER, current.holder);
      return reply(res, 409, { error: 'taken' });
    }
    res.end(JSON.stringify(outcome.stored ? { record: outcome.record } : { stored: false }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      onError(error);
      if (!res.headersSent) reply(res, 500, { error: 'The invoker could not take the activation.' });
      else res.end(JSON.stringify({ stored: false }));
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      }),
    );
  });
}
