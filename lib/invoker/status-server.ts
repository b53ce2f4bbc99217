import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `GET /status` on a unix socket in a directory only the invoker's user can enter: the pool state
 * (every container and the action it holds) for operators and tests. It is no TCP port, since
 * action code shares the host's loopback and must not learn other tenants' action names.
 */
export interface StatusServer {
  socketPath: string;
  close(): void;
}

export function startStatusServer(status: () => object): Promise<StatusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-invoker-'));
  chmodSync(dir, 0o700);
  const socketPath = join(dir, 'status.sock');
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/status') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status()));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () =>
      resolve({
        socketPath,
        close: () => {
          server.close();
          rmSync(dir, { recursive: true, force: true });
        },
      }),
    );
  });
}

/** Reads an invoker's status over its socket. */
export function readStatus(socketPath: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/status', method: 'GET' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
