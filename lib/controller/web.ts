import type { Context, Hono } from 'hono';
import { resolveAction, type ResolvedAction } from '../catalog/resolve';
import { annotationValue } from '../model/entity';
import { defineOwn } from '../model/json-object';
import type { Identity } from '../store/subjects';
import { authenticateHeader } from './auth';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { ACTIVATION_ID_HEADER, runBlocking } from './invoke';
import { parseWebRoute, webActionArgs, webCorsHeaders, WebActionError, type WebRoute } from './web-request';
import { webActionResponse, webErrorResponse, WebResponseMessages, type WebHttpResponse } from './web-response';

type Ctx = Context<ControllerEnv>;

const OWNER_CACHE_MS = 10_000;

/** Owners of namespaces, briefly cached: every web request needs one. */
export function ownerLookup(deps: ControllerDeps): (namespace: string) => Promise<Identity | undefined> {
  const cache = new Map<string, { identity: Identity | undefined; expires: number }>();
  return async (namespace) => {
    const now = Date.now();
    const hit = cache.get(namespace);
    if (hit && hit.expires > now) return hit.identity;
    const identity = await deps.subjects.byNamespace(namespace);
    if (cache.size > 10_000) cache.clear();
    cache.set(namespace, { identity, expires: now + OWNER_CACHE_MS });
    return identity;
  };
}

/** The web-exported action a route names, resolved as its owner sees it; anything else is a 404. */
export async function webAction(deps: ControllerDeps, owner: Identity, route: WebRoute): Promise<ResolvedAction> {
  try {
    const resolved = await resolveAction(deps.entityCache ?? deps.entities, owner.namespace, {
      namespace: route.namespace,
      path: route.pkg ? { pkg: route.pkg, name: route.name } : { name: route.name },
    });
    if (annotationValue(resolved.action.annotations, 'web-export')) return resolved;
  } catch (error) {
    if (!(error instanceof WhiskError)) throw error;
  }
  throw new WhiskError(404, Messages.notFound);
}

/**
 * `require-whisk-auth`: true wants valid credentials; a string or number wants that secret in
 * X-Require-Whisk-Auth, which an API route sends in the caller's stead (`gatewaySecret`) when its
 * creator gave it.
 */
async function authorize(c: Ctx, deps: ControllerDeps, required: unknown, gatewaySecret?: string | number): Promise<string | undefined> {
  if (required === undefined || required === false) return undefined;
  if (required === true) {
    const identity = await authenticateHeader(deps.subjects, c.req.header('authorization'));
    if (!identity) throw new WhiskError(401, WebResponseMessages.unauthorized);
    return identity.namespace;
  }
  const presented = gatewaySecret !== undefined ? String(gatewaySecret) : c.req.header('x-require-whisk-auth');
  if ((typeof required === 'string' || typeof required === 'number') && presented === String(required)) return undefined;
  throw new WhiskError(401, WebResponseMessages.unauthorized);
}

function lowercaseHeaders(c: Ctx): Record<string, string> {
  const headers: Record<string, string> = {};
  // defineOwn: a header named `__proto__` is a header like any other.
  c.req.raw.headers.forEach((value, name) => defineOwn(headers, name.toLowerCase(), value));
  return headers;
}

function respond(c: Ctx, response: WebHttpResponse, extraHeaders: Record<string, string> = {}): Response {
  const out = new Headers();
  for (const [name, value] of Object.entries({ ...extraHeaders, ...response.headers })) {
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  const body = response.body;
  const payload = c.req.method === 'HEAD' || body === undefined ? null : typeof body === 'string' ? body : new Uint8Array(body);
  return new Response(payload, { status: response.status, headers: out });
}

/** The request's arguments, or the 400 OpenWhisk answers (a malformed body is a compact rejection without CORS). */
async function requestArgs(c: Ctx, route: WebRoute, headers: Record<string, string>, resolved: ResolvedAction, user: string | undefined): Promise<Record<string, unknown>> {
  const annotations = resolved.action.annotations;
  const finalAnnotation = Boolean(annotationValue(annotations, 'final'));
  const protectedKeys = finalAnnotation ? resolved.parameters.filter((p) => p.value !== null && p.value !== undefined).map((p) => p.key) : [];
  const query = new URL(c.req.url).search.replace(/^\?/, '');
  const body = new Uint8Array(await c.req.arrayBuffer());
  return webActionArgs({ method: c.req.method, headers, path: route.path, query, body }, { raw: Boolean(annotationValue(annotations, 'raw-http')), protectedKeys, user });
}

/**
 * Runs a web action as its owner, blocking, and maps its record to the HTTP response. Errors after
 * the lookup carry the action's CORS headers, as OpenWhisk's directives add them.
 */
export async function runWebAction(c: Ctx, deps: ControllerDeps, route: WebRoute, owner: Identity, resolved: ResolvedAction, gatewaySecret?: string | number): Promise<Response> {
  const transactionId = c.get('transactionId');
  const annotations = resolved.action.annotations;
  const headers = lowercaseHeaders(c);
  const customOptions = Boolean(annotationValue(annotations, 'web-custom-options'));
  const cors = customOptions ? {} : webCorsHeaders(headers);
  if (c.req.method === 'OPTIONS' && !customOptions) return respond(c, { status: 200, headers: {}, body: undefined }, cors);
  try {
    // With web-custom-options the action answers OPTIONS itself, whatever its auth setting.
    const user = c.req.method === 'OPTIONS' ? undefined : await authorize(c, deps, annotationValue(annotations, 'require-whisk-auth'), gatewaySecret);
    const payload = await requestArgs(c, route, headers, resolved, user);
    const { activationId, record } = await runBlocking(deps, { identity: owner, transactionId, resolved, payload, blocking: true }, deps.maxBlockingWaitMs, c.req.raw.signal);
    const common = { ...cors, [ACTIVATION_ID_HEADER]: activationId };
    if (!record) return respond(c, webErrorResponse(202, WebResponseMessages.responseNotReady, transactionId), common);
    const outcome = { statusCode: record.response.statusCode as 0 | 1 | 2 | 3, result: record.response.result };
    const response = webActionResponse(route, outcome, transactionId, { accept: headers.accept });
    try {
      return respond(c, response, response.bare ? {} : common);
    } catch {
      // A status or header the HTTP stack cannot send (a 1xx status, a header with a line break).
      return respond(c, webErrorResponse(400, WebResponseMessages.invalidMedia('message/http'), transactionId), common);
    }
  } catch (error) {
    if (error instanceof WebActionError) return respond(c, webErrorResponse(error.status, error.message, transactionId, error.rejection), error.rejection ? {} : cors);
    if (error instanceof WhiskError && error.status < 500) return respond(c, webErrorResponse(error.status, error.message, transactionId), cors);
    throw error;
  }
}

/**
 * Web actions: `/api/v1/web/{ns}/{pkg|default}/{action}.{ext}[/path]`, no platform auth. The action
 * runs as its owner (who owns the record), blocking, and its result becomes the HTTP response.
 * Mounted on the `/api/v1` router.
 */
export function registerWebRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  const ownerOf = ownerLookup(deps);
  app.all('/web/*', async (c) => {
    const rest = c.req.path.slice(c.req.path.indexOf('/web/') + '/web/'.length);
    const route = parseWebRoute(rest);
    if (!route) throw new WhiskError(404, Messages.notFound);
    const owner = await ownerOf(route.namespace);
    if (!owner) throw new WhiskError(404, Messages.notFound);
    return runWebAction(c, deps, route, owner, await webAction(deps, owner, route));
  });
}
