import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { IncomingMessage } from 'node:http';
import { Messages, WhiskError } from './errors';

/**
 * Caps request bodies at `maxSize` bytes (a 413 in OpenWhisk's shape). A request that declares its
 * length is judged by that header alone, as hono's bodyLimit judges it, but without touching
 * `c.req.raw.body`: on Node that would build a WHATWG Request and stream for every request,
 * GETs included (about a tenth of the controller's CPU per invoke, profiled), where Hono's Node
 * adapter otherwise reads the body straight from the socket. Node's parser keeps a body to its
 * declared length. Chunked bodies, whose length is unknown, are counted by hono's own middleware,
 * as is every body that did not come through Node's parser.
 */
export function cappedBody(maxSizeOf: number | ((c: Context) => number)): MiddlewareHandler {
  const limiters = new Map<number, MiddlewareHandler>();
  const streamedUpTo = (maxSize: number) => {
    let limiter = limiters.get(maxSize);
    if (!limiter) {
      limiter = bodyLimit({
        maxSize,
        onError: () => {
          throw new WhiskError(413, Messages.tooLarge);
        },
      });
      limiters.set(maxSize, limiter);
    }
    return limiter;
  };
  return async (c, next) => {
    const maxSize = typeof maxSizeOf === 'number' ? maxSizeOf : maxSizeOf(c);
    const streamed = streamedUpTo(maxSize);
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > maxSize) throw new WhiskError(413, Messages.tooLarge);
      return next();
    }
    // On Node, a request with neither header has no body (a GET, a DELETE). Elsewhere (Lambda)
    // the body is counted.
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (incoming !== undefined && c.req.header('transfer-encoding') === undefined) return next();
    return streamed(c, next);
  };
}
