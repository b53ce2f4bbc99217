import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP server actions report to (`GET /hit?id=<activation id>`), so a test can count
 * how many times an action body really ran for each activation id.
 */
export class SideChannel {
  readonly hits = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
      this.hits.set(id, (this.hits.get(id) ?? 0) + 1);
      res.end('ok');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Action code that reports its run, then returns `{ ran: true }`. */
  actionCode(): string {
    return `async function main() {
  await fetch('http://127.0.0.1:${this.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
  return { ran: true };
}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
