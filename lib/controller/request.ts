import type { Context } from 'hono';
import type { z } from 'zod';
import { MAX_JSON_NESTING, nestsDeeperThan } from '../model/json-depth';
import { SYSTEM_LIMITS } from '../model/limits';
import { DEFAULT_NAMESPACE_ALIAS, isValidEntityName, isValidNamespace, parseEntityPath, type EntityPath } from '../model/names';
import type { ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';

type Ctx = Context<ControllerEnv>;

/**
 * The namespace a path names, after `_` resolution. Reads of published packages may name another
 * namespace; the entitlement check is the caller's job then.
 */
export function requestedNamespace(c: Ctx): string {
  const requested = c.req.param('ns') ?? DEFAULT_NAMESPACE_ALIAS;
  if (!isValidNamespace(requested)) throw new WhiskError(400, `The namespace '${requested}' is not a valid name.`);
  return requested === DEFAULT_NAMESPACE_ALIAS ? c.get('identity').namespace : requested;
}

/** The caller's own namespace, when the path names it (or `_`); any other namespace is a 403. */
export function resolveNamespace(c: Ctx): string {
  const namespace = requestedNamespace(c);
  if (namespace !== c.get('identity').namespace) throw new WhiskError(403, Messages.notAuthorized);
  return namespace;
}

/** The first issue of a failed zod parse, as OpenWhisk words a malformed body. */
export function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${Messages.malformed}: ${where}${issue.message}`;
}

/** The JSON object body validated by `schema`; a 400 with the first issue otherwise. */
export async function parsedBody<T>(c: Ctx, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await jsonObjectBody(c));
  if (!parsed.success) throw new WhiskError(400, zodMessage(parsed.error));
  return parsed.data;
}

/** A plain entity name (triggers, rules, packages: never inside a package), from the path parameter `param`. */
export function entityNameParam(c: Ctx, collection: string, param = 'name'): string {
  const raw = c.req.param(param) ?? '';
  if (!isValidEntityName(raw)) throw new WhiskError(400, `The name '${raw}' of the ${collection.replace(/s$/, '')} is not valid.`);
  return raw;
}

export function entityPathParam(c: Ctx, collection: string): EntityPath {
  const raw = c.req.param('name') ?? '';
  const path = parseEntityPath(raw);
  if (!path) throw new WhiskError(400, `The name '${raw}' of the ${collection.replace(/s$/, '')} is not valid.`);
  return path;
}

/** An integer query parameter. */
function integerParam(c: Ctx, name: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new WhiskError(400, `The value '${value}' of the '${name}' parameter is not a whole number.`);
  // Beyond 2^53 a number is no longer exact (and the store refuses it): a 400, not a 500.
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new WhiskError(400, `The value '${value}' of the '${name}' parameter is out of range.`);
  return number;
}

/**
 * A list's `limit` or `skip` as OpenWhisk reads them (Java's `toInt`): an optional sign and a
 * 32-bit integer, else "not an integer". Empty is taken as absent, more lenient than OpenWhisk.
 */
function listIntegerParam(c: Ctx, name: 'limit' | 'skip', collection: string): number | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  const number = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number > 2 ** 31 - 1 || number < -(2 ** 31)) throw new WhiskError(400, `The value '${value}' is not an integer for ${collection}.`);
  return number;
}

export function booleanParam(c: Ctx, name: string, fallback: boolean): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new WhiskError(400, `The value '${value}' of the '${name}' parameter must be true or false.`);
}

/** What `count=true` answers for `total` entries: those a listing with this `skip` pages through, as OpenWhisk's store counts. */
export function countAfterSkip(total: number, skip: number): number {
  return Math.max(0, total - skip);
}

/** `limit` (default 30, 0 means the maximum 200), `skip` (≥ 0) and `count` as OpenWhisk reads them. */
export function listParams(c: Ctx, collection: string): { limit: number; skip: number; count: boolean } {
  const limit = listIntegerParam(c, 'limit', collection) ?? SYSTEM_LIMITS.listLimitDefault;
  if (limit < 0 || limit > SYSTEM_LIMITS.listLimitMax) {
    throw new WhiskError(400, `The value '${limit}' is not in the range of 0 to ${SYSTEM_LIMITS.listLimitMax} for ${collection}.`);
  }
  const skip = listIntegerParam(c, 'skip', collection) ?? 0;
  if (skip < 0) throw new WhiskError(400, `The value '${skip}' is not greater than or equal to 0 for ${collection}.`);
  return { limit: limit === 0 ? SYSTEM_LIMITS.listLimitMax : limit, skip, count: booleanParam(c, 'count', false) };
}

export function optionalIntegerParam(c: Ctx, name: string): number | undefined {
  const value = integerParam(c, name);
  if (value !== undefined && value < 0) throw new WhiskError(400, `The value '${value}' of the '${name}' parameter must not be negative.`);
  return value;
}

/** Deeper JSON is refused: serializing it again (for the queue, the store) would overflow the stack. */
export const MAX_BODY_NESTING = MAX_JSON_NESTING;

/**
 * The request body as JSON. An empty body is `{}` (as OpenWhisk treats it); anything that is not
 * JSON, or nests more than MAX_BODY_NESTING levels, is a 400. The size was already capped by the
 * body-limit middleware.
 */
export async function jsonBody(c: Ctx): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new WhiskError(400, `${Messages.malformed}: the body is not valid JSON.`);
  }
  if (nestsDeeperThan(body, MAX_BODY_NESTING)) throw new WhiskError(400, `${Messages.malformed}: the body nests more than ${MAX_BODY_NESTING} levels.`);
  return body;
}

export async function jsonObjectBody(c: Ctx): Promise<Record<string, unknown>> {
  const body = await jsonBody(c);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new WhiskError(400, `${Messages.malformed}: expected a JSON object.`);
  }
  return body as Record<string, unknown>;
}

/** Bound parameters of one entity are capped (413), as OpenWhisk's parameter size limit. */
export function checkParameterSize(parameters: unknown): void {
  if (Buffer.byteLength(JSON.stringify(parameters ?? [])) > SYSTEM_LIMITS.maxParameterSize) throw new WhiskError(413, Messages.tooLarge);
}
