import type { Context } from 'hono';
import { SYSTEM_LIMITS } from '../model/limits';
import { DEFAULT_NAMESPACE_ALIAS, isValidNamespace, parseEntityPath, type EntityPath } from '../model/names';
import type { ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';

type Ctx = Context<ControllerEnv>;

/**
 * The namespace a path names, after `_` resolution. Only the caller's own namespace is
 * reachable for now (shared packages come with packages).
 */
export function resolveNamespace(c: Ctx): string {
  const requested = c.req.param('ns') ?? DEFAULT_NAMESPACE_ALIAS;
  const own = c.get('identity').namespace;
  if (!isValidNamespace(requested)) throw new WhiskError(400, `The namespace '${requested}' is not a valid name.`);
  if (requested !== DEFAULT_NAMESPACE_ALIAS && requested !== own) throw new WhiskError(403, Messages.notAuthorized);
  return own;
}

export function entityPathParam(c: Ctx, collection: string): EntityPath {
  const raw = c.req.param('name') ?? '';
  const path = parseEntityPath(raw);
  if (!path) throw new WhiskError(400, `The name '${raw}' of the ${collection.replace(/s$/, '')} is not valid.`);
  return path;
}

function integerParam(c: Ctx, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new WhiskError(400, `The value '${value}' of the '${name}' parameter is not a whole number.`);
  return Number(value);
}

export function booleanParam(c: Ctx, name: string, fallback: boolean): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new WhiskError(400, `The value '${value}' of the '${name}' parameter must be true or false.`);
}

/** `limit` (default 30, 0 means the maximum 200), `skip` (≥ 0) and `count` as OpenWhisk reads them. */
export function listParams(c: Ctx, collection: string): { limit: number; skip: number; count: boolean } {
  const limit = integerParam(c, 'limit') ?? SYSTEM_LIMITS.listLimitDefault;
  if (limit < 0 || limit > SYSTEM_LIMITS.listLimitMax) {
    throw new WhiskError(400, `The value '${limit}' is not in the range of 0 to ${SYSTEM_LIMITS.listLimitMax} for ${collection}.`);
  }
  const skip = integerParam(c, 'skip') ?? 0;
  if (skip < 0) throw new WhiskError(400, `The value '${skip}' is not in the range of 0 to ${Number.MAX_SAFE_INTEGER} for ${collection}.`);
  return { limit: limit === 0 ? SYSTEM_LIMITS.listLimitMax : limit, skip, count: booleanParam(c, 'count', false) };
}

export function optionalIntegerParam(c: Ctx, name: string): number | undefined {
  const value = integerParam(c, name);
  if (value !== undefined && value < 0) throw new WhiskError(400, `The value '${value}' of the '${name}' parameter must not be negative.`);
  return value;
}

/**
 * The request body as JSON. An empty body is `{}` (as OpenWhisk treats it); anything that is not
 * JSON is a 400. The size was already capped by the body-limit middleware.
 */
export async function jsonBody(c: Ctx): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new WhiskError(400, `${Messages.malformed}: the body is not valid JSON.`);
  }
}

export async function jsonObjectBody(c: Ctx): Promise<Record<string, unknown>> {
  const body = await jsonBody(c);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new WhiskError(400, `${Messages.malformed}: expected a JSON object.`);
  }
  return body as Record<string, unknown>;
}
