import { createServer, type Server, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';

/** The IPC message a forwarded connection travels with: `{ type, id }`. */
export const CONNECTION_MESSAGE = 'skywhisk:connection';
/** The serving process's answer once it holds the connection: `{ type, id }`. */
export const CONNECTION_TAKEN = 'skywhisk:connection-taken';
/** The serving process says it is stopping: it gets no more connections. */
export const SERVING_STOPS = 'skywhisk:serving-stops';

/** Connections kept waiting while no process serves the port; more are refused. */
const MAX_WAITING = 1024;

interface IpcMessage {
  type?: unknown;
  id?: unknown;
}

/**
 * A loopback port the supervisor listens on for as long as the platform runs, handing each
 * connection to the process that serves it (the embedded endpoint) over IPC. When that process
 * dies, the port stays taken: clients' new connections wait here until its replacement is ready
 * instead of failing, and no other local process (action code among them) can bind the port in
 * between and answer the platform's requests.
 *
 * A connection is sent with `keepOpen` and this process closes its own copy when the serving
 * process says it holds it, or when that process exits: Node's own bookkeeping would keep the
 * copy of a connection sent just before the child died open forever, its client waiting.
 */
export class HeldPort {
  private serving: ChildProcess | undefined;
  private readonly waiting: Socket[] = [];
  /** Connections sent to each serving process and not yet taken by it, by message id. */
  private readonly inTransit = new Map<ChildProcess, Map<number, Socket>>();
  private nextId = 0;

  private constructor(private readonly server: Server) {
    server.on('connection', (socket) => this.take(socket));
  }

  static async listen(port: number, host: string): Promise<HeldPort> {
    // Paused: the bytes stay unread until the serving process reads them.
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new HeldPort(server);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** From now on `child` (ready to serve) gets every connection, those waiting first, until it stops or exits. */
  serveWith(child: ChildProcess): void {
    this.serving = child;
    const inTransit = new Map<number, Socket>();
    this.inTransit.set(child, inTransit);
    const stopServing = () => {
      if (this.serving === child) this.serving = undefined;
    };
    child.on('message', (message: IpcMessage) => {
      if (message?.type === CONNECTION_TAKEN && typeof message.id === 'number') {
        inTransit.get(message.id)?.destroy();
        inTransit.delete(message.id);
      } else if (message?.type === SERVING_STOPS) stopServing();
    });
    child.once('exit', () => {
      stopServing();
      // Never taken: closing this copy closes the connection, and its client retries.
      for (const socket of inTransit.values()) socket.destroy();
      this.inTransit.delete(child);
    });
    for (const socket of this.waiting.splice(0)) this.take(socket);
  }

  private take(socket: Socket): void {
    if (socket.destroyed) return;
    const child = this.serving;
    const inTransit = child && this.inTransit.get(child);
    if (!child?.connected || !inTransit) {
      if (this.waiting.length >= MAX_WAITING) socket.destroy();
      else {
        this.waiting.push(socket);
        // A client that gives up while waiting is forgotten.
        socket.once('close', () => {
          const i = this.waiting.indexOf(socket);
          if (i >= 0) this.waiting.splice(i, 1);
        });
      }
      return;
    }
    const id = ++this.nextId;
    inTransit.set(id, socket);
    child.send({ type: CONNECTION_MESSAGE, id }, socket, { keepOpen: true }, (error) => {
      if (!error) return;
      // The child went away as the connection was on its way: the next one gets it.
      inTransit.delete(id);
      this.take(socket);
    });
  }

  /** Stops listening (at once: the connections handed over belong to the processes that took them). */
  close(): void {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    // Its callback would wait for the handed-over connections, counted by asking processes that may be gone.
    this.server.close();
  }
}
