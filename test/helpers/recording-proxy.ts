import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** One request that went through the proxy: its operation and the client that sent it. */
export interface ProxiedCall {
  operation: string;
  userAgent: string;
}

/** What the proxy does to the next request instead of forwarding it. */
export type InjectedFault = { kind: 'status'; status: number; body: object } | { kind: 'drop-after-forward' } | { kind: 'drop-before-forward' };

export interface RecordingProxy {
  url: string;
  calls: ProxiedCall[];
  /** Faults for the next requests, in order (one each). */
  inject(...faults: InjectedFault[]): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the embedded endpoint: records each call's `X-Amz-Target` operation and
 * user agent on the wire, whichever client sent it, and can fail chosen requests (an answer of its
 * own, or a connection dropped before or after the endpoint got the request).
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: ProxiedCall[] = [];
  const faults: InjectedFault[] = [];
  // One upstream connection per client connection: the endpoint trusts a connection once its first
  // request's signature is verified, so pooling them would let one client ride on another's.
  const upstreamFor = new WeakMap<Socket, Agent>();
  const agentOf = (socket: Socket) => {
    let agent = upstreamFor.get(socket);
    if (!agent) {
      const created = new Agent({ keepAlive: true, maxSockets: 1 });
      socket.once('close', () => created.destroy());
      upstreamFor.set(socket, created);
      agent = created;
    }
    return agent;
  };

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, after?: () => void) => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent: agentOf(req.socket) }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        if (after) return after();
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(Buffer.concat(chunks));
      });
    });
    out.on('error', () => res.destroy());
    out.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.push({ operation: target.slice(target.indexOf('.') + 1), userAgent: String(req.headers['user-agent'] ?? '') });
      const body = Buffer.concat(chunks);
      const fault = faults.shift();
      if (!fault) return forward(req, body, res);
      if (fault.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' });
        return res.end(JSON.stringify(fault.body));
      }
      if (fault.kind === 'drop-before-forward') return res.socket?.destroy();
      forward(req, body, res, () => res.socket?.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    inject: (...more) => faults.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
