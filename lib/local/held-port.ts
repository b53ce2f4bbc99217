import { createServer, type Server, type Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';

/** The IPC message a forwarded connection travels with. */
export const CONNECTION_MESSAGE = 'skywhisk:connection';

/** Connections kept waiting while no process serves the port; more are refused. */
const MAX_WAITING = 1024;

/**
 * A loopback port the supervisor listens on for as long as the platform runs, handing each
 * connection to the process that serves it (the embedded endpoint) over IPC. When that process
 * dies, the port stays taken: clients' new connections wait here until its replacement is ready
 * instead of failing, and no other local process (action code among them) can bind the port in
 * between and answer the platform's requests.
 */
export class HeldPort {
  private serving: ChildProcess | undefined;
  private readonly waiting: Socket[] = [];
  /** Sockets sent to each serving process, until they close here. */
  private readonly handedOver = new Map<ChildProcess, Set<Socket>>();

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

  /** From now on `child` (ready to serve) gets every connection, those waiting first, until it exits. */
  serveWith(child: ChildProcess): void {
    this.serving = child;
    const handedOver = new Set<Socket>();
    this.handedOver.set(child, handedOver);
    child.once('exit', () => {
      if (this.serving === child) this.serving = undefined;
      // Node closes its copy of a socket it sent only once the child acknowledges it: one sent
      // just before the child died would stay open here, unread, and its client would wait forever.
      for (const socket of handedOver) socket.destroy();
      this.handedOver.delete(child);
    });
    for (const socket of this.waiting.splice(0)) this.take(socket);
  }

  private take(socket: Socket): void {
    if (socket.destroyed) return;
    const child = this.serving;
    if (!child?.connected) {
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
    const handedOver = this.handedOver.get(child);
    handedOver?.add(socket);
    socket.once('close', () => handedOver?.delete(socket));
    child.send(CONNECTION_MESSAGE, socket, (error) => {
      // The child went away as the connection was on its way: the next one gets it.
      if (error) {
        handedOver?.delete(socket);
        this.take(socket);
      }
    });
  }

  /** Stops listening (at once: the connections handed over belong to the processes that took them). */
  close(): void {
    for (const socket of this.waiting.splice(0)) socket.destroy();
    // Its callback would wait for the handed-over connections, counted by asking processes that may be gone.
    this.server.close();
  }
}
