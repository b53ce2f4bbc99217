import type { MiddlewareHandler } from 'hono';
import type { Identity, SubjectsRepository } from '../store/subjects';
import type { ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';

const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 10_000;

/**
 * Basic auth `uuid:key` against the subjects table. Results (including failures) are cached
 * for a few seconds per header value so a warm invoke does not pay a table read.
 */
export function basicAuth(subjects: SubjectsRepository): MiddlewareHandler<ControllerEnv> {
  const cache = new Map<string, { identity: Identity | undefined; expires: number }>();
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) throw new WhiskError(401, Messages.authMissing);
    const now = Date.now();
    let entry = cache.get(header);
    if (!entry || entry.expires < now) {
      entry = { identity: await authenticateHeader(subjects, header), expires: now + CACHE_TTL_MS };
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(header, entry);
    }
    if (!entry.identity) throw new WhiskError(401, Messages.authInvalid);
    c.set('identity', entry.identity);
    await next();
  };
}

/** The identity a Basic `uuid:key` header authenticates, or undefined. */
export async function authenticateHeader(subjects: SubjectsRepository, header: string | undefined): Promise<Identity | undefined> {
  if (!header) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const uuid = decoded.slice(0, colon);
  const key = decoded.slice(colon + 1);
  if (uuid.length > 128 || key.length > 256 || key.length === 0) return undefined;
  return subjects.authenticate(uuid, key);
}
