import { randomBytes } from 'node:crypto';
import { chownSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { Agent, request } from 'node:http';
import { SYSTEM_LIMITS } from '../model/limits';
import { ContainerGoneError, ContainerTimeoutError, ResponseTooLargeError, type RuntimeResponse } from './container';

/** What the invoker asks a runtime: `/warmup` is ours (a stem cell's first request), the others OpenWhisk's. */
export type RuntimePath = '/init' | '/run' | '/warmup';

/**
 * How long a stem cell's warm-up request may take (the runtime may still be starting); less than
 * the invoker's wait for its pool at shutdown, so a hung warm-up cannot outlast it.
 */
export const WARM_UP_TIMEOUT_MS = 10_000;

/** Where a runtime listens: a unix socket path, or a loopback TCP port. */
export type RuntimeAddress = { socketPath: string } | { host: string; port: number };

const RETRYABLE_CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET']);

/**
 * Names the file a runtime reads its container's secret from; the runtime removes the file once
 * read, so the secret is neither in the action's environment nor on its disk.
 */
export const RUNTIME_TOKEN_FILE_ENV = '__OW_RUNTIME_TOKEN_FILE';

/**
 * The most a runtime's answer may hold: the largest result OpenWhisk stores plus room for its JSON
 * envelope. A larger answer is not read further (a runtime could otherwise exhaust the invoker's
 * memory, which every tenant shares).
 */
export const MAX_RUNTIME_RESPONSE_BYTES = SYSTEM_LIMITS.maxResultSize + 64 * 1024;

/** A fresh per-container secret: our runtimes answer only requests that carry it. */
export function newRuntimeToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A fresh token in `file` (0600, owned by the container's user when it has one), where the runtime
 * named by `RUNTIME_TOKEN_FILE_ENV` reads and removes it.
 */
export function writeRuntimeToken(file: string, uid: number | undefined): string {
  const token = newRuntimeToken();
  writeFileSync(file, token, { mode: 0o600 });
  if (uid !== undefined) chownSync(file, uid, uid);
  return token;
}

/**
 * An HTTP client for one runtime's `/init` and `/run`, over a kept-alive connection. With a token,
 * every request carries it as `Authorization: Bearer <token>` (a blackbox image ignores it).
 */
export class RuntimeClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly authorization: Record<string, string>;

  constructor(
    private readonly address: RuntimeAddress,
    token?: string,
    private readonly maxResponseBytes = MAX_RUNTIME_RESPONSE_BYTES,
  ) {
    this.authorization = token ? { authorization: `Bearer ${token}` } : {};
  }

  /**
   * POSTs JSON. With `retryConnect`, connection failures are retried until the deadline (the
   * runtime may still be starting, as OpenWhisk's invoker retries `/init`); `/run` is never retried.
   */
  async post(
    path: RuntimePath,
    payload: object,
    timeoutMs: number,
    retryConnect = false,
    stillRunning: () => boolean = () => true,
  ): Promise<RuntimeResponse> {
    const deadline = Date.now() + timeoutMs;
    const body = JSON.stringify(payload);
    for (;;) {
      try {
        return await this.once(path, body, Math.max(1, deadline - Date.now()));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (!retryConnect || !code || !RETRYABLE_CONNECT_ERRORS.has(code) || !stillRunning()) {
          if (error instanceof ContainerTimeoutError || error instanceof ResponseTooLargeError) throw error;
          throw new ContainerGoneError(`${path} failed: ${(error as Error).message}`);
        }
        if (Date.now() + 5 >= deadline) throw new ContainerTimeoutError(`${path} not reachable in time`);
        await this.untilSocketMayListen(5);
      }
    }
  }

  /**
   * Waits before another connection attempt: `ms`, or less when the socket's directory changes (a
   * starting runtime creates its socket there), so a cold start does not sleep past the moment its
   * runtime listens.
   */
  private untilSocketMayListen(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let watcher: FSWatcher | undefined;
      const done = () => {
        clearTimeout(timer);
        watcher?.close();
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (!('socketPath' in this.address)) return;
      try {
        watcher = watch(dirname(this.address.socketPath), done);
        watcher.on('error', done);
      } catch {
        // No such directory (yet) or no inotify: the timer alone.
      }
    });
  }

  private once(path: string, body: string, timeoutMs: number): Promise<RuntimeResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          ...this.address,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...this.authorization },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= this.maxResponseBytes) chunks.push(c);
            else req.destroy(new ResponseTooLargeError(this.maxResponseBytes));
          });
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(timer);
            // Whatever a runtime sends must end in a response or an error, never a throw here.
            try {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = undefined;
              }
              resolve({ statusCode: res.statusCode ?? 0, body: parsed, text });
            } catch (error) {
              reject(error as Error);
            }
          });
        },
      );
      const timer = setTimeout(() => {
        req.destroy(new ContainerTimeoutError(`${path} exceeded ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
