import type { Context, Hono } from 'hono';
import { LRUCache } from 'lru-cache';
import { apiKeyOf, ApisRepository } from '../apis/store';
import {
  addRoute,
  ApiDocError,
  baseSwagger,
  checkImportedSwagger,
  HTTP_VERBS,
  matchRoute,
  parseWebActionUrl,
  removeRoute,
  RESPONSE_TYPES,
  validateFinal,
  webActionUrl,
  type SwaggerDoc,
} from '../apis/swagger';
import type { Identity } from '../store/subjects';
import { SYSTEM_LIMITS } from '../model/limits';
import { isValidEntityName } from '../model/names';
import { authenticateHeader } from './auth';
import { cappedBody } from './body-limit';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { jsonBody } from './request';
import { ownerLookup, runWebAction, webAction } from './web';
import { WebMessages, type WebRoute } from './web-request';

type Ctx = Context<ControllerEnv>;

/**
 * OpenWhisk's API management without an external gateway. The system package's three web actions
 * (`/api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}[.http]`, what `wsk api`, the
 * `openwhisk` client's routes, Serverless `http` events and manifests' `apis:` call) are answered
 * by the controller itself, with the shapes of OpenWhisk's API Gateway v2 path; each namespace's
 * APIs are stored in the entities table; and their routes, `/api/<namespace>/<basePath>/<relPath>`,
 * are served here too, running the web action behind each as `/api/v1/web` would.
 */

/** An application error of an apimgmt action, as OpenWhisk's web action answers it: 502 `{"error"}`. */
class ApiManagementError extends Error {}

const fail = (message: string): never => {
  throw new ApiManagementError(message);
};

/** The platform's URL as the caller reached it (with API Gateway's stage), for the URLs answered. */
export function publicOrigin(c: Ctx): string {
  const url = new URL(c.req.url);
  const stage = (c.env as { event?: { requestContext?: { stage?: string } } } | undefined)?.event?.requestContext?.stage;
  const proto = c.req.header('x-forwarded-proto') ?? url.protocol.replace(/:$/, '');
  return `${proto}://${url.host}${stage && stage !== '$default' ? `/${stage}` : ''}`;
}

function routeUrl(origin: string, namespace: string, basePath: string): string {
  const base = basePath.replace(/^\/+|\/+$/g, '');
  return `${origin}/api/${encodeURIComponent(namespace)}${base ? `/${base}` : ''}`;
}

/** Query parameters, then the JSON body's fields (the body wins), as web action arguments merge. */
async function argumentsOf(c: Ctx): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) args[key] = value;
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? {} : await jsonBody(c);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) Object.assign(args, body);
  if (Object.keys(args).some((key) => key.startsWith('__ow_'))) throw new WhiskError(400, WebMessages.parametersNotAllowed);
  return args;
}

function objectOrJson(value: unknown, name: string): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      fail(`${name} field cannot be parsed. Ensure it is valid JSON.`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail(`${name} field is of type ${Array.isArray(parsed) ? 'array' : typeof parsed} and should be a JSON object or a JSON string.`);
  return parsed as Record<string, unknown>;
}

/** An API's document is at most this large (OpenWhisk's gateway has its own limits; this keeps each route lookup small). */
export const MAX_API_DOC_BYTES = 256 * 1024;
/** A base path has at most this many segments, so a request looks up at most this many + 1 candidates. */
export const MAX_BASE_PATH_SEGMENTS = 8;

function checkSize(doc: SwaggerDoc): void {
  if (Buffer.byteLength(JSON.stringify(doc)) > MAX_API_DOC_BYTES) fail(`The API document is larger than ${MAX_API_DOC_BYTES / 1024} KB.`);
}

/** `/a/b` for `a/b/`, `/a/b` or `//a//b` (one API per path, whatever slashes the client sent), or undefined when too deep. */
function canonicalBasePath(raw: string): string | undefined {
  const segments = raw.split('/').filter((s) => s !== '');
  return segments.length > MAX_BASE_PATH_SEGMENTS ? undefined : '/' + segments.join('/');
}

function normalisedBasePath(raw: string): string {
  return canonicalBasePath(raw) ?? fail(`The base path '${raw}' has more than ${MAX_BASE_PATH_SEGMENTS} segments.`);
}

/** Each path segment decoded, or undefined when one is not percent-encoding. */
function decodedSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * A getApi or deleteApi query argument. The `openwhisk` client writes an option it was given as
 * `undefined` into the query string as the word (`aio rt api list` sends `basepath=undefined`), so
 * that word means absent here: base and relative paths start with `/`, and it is no verb.
 */
const queryText = (value: unknown): string | undefined => (value === 'undefined' ? undefined : text(value));

/** `[/ns/][pkg/]action` of a route's action, in the caller's namespace when it says `_` or nothing. */
function targetOf(action: Record<string, unknown>, caller: string): { namespace: string; package: string; action: string } {
  const parts = String(action.name).split('/').filter(Boolean);
  const named = String(action.name).startsWith('/') ? parts.shift() : undefined;
  const namespace = named ?? (text(action.namespace) && action.namespace !== '_' ? String(action.namespace) : caller);
  const resolved = { namespace: namespace === '_' ? caller : namespace, package: parts.length === 2 ? parts[0] : '', action: parts[parts.length - 1] };
  if (parts.length === 0 || parts.length > 2 || ![resolved.namespace, resolved.action, ...(resolved.package ? [resolved.package] : [])].every(isValidEntityName)) {
    fail(`The action name '${String(action.name)}' is not valid.`);
  }
  return resolved;
}

function apiBody(origin: string, namespace: string, doc: SwaggerDoc): object {
  return { namespace: 'Not Used', gwApiActivated: true, tenantId: 'Not Used', gwApiUrl: routeUrl(origin, namespace, doc.basePath), apidoc: doc };
}

async function findApi(apis: ApisRepository, namespace: string, basePathOrName: string): Promise<SwaggerDoc | undefined> {
  if (basePathOrName.startsWith('/')) {
    const basePath = canonicalBasePath(basePathOrName);
    return basePath === undefined ? undefined : (await apis.get(namespace, basePath))?.doc;
  }
  return (await apis.list(namespace)).find((api) => api.doc.info?.title === basePathOrName)?.doc;
}

async function createApi(apis: ApisRepository, identity: Identity, args: Record<string, unknown>, origin: string): Promise<object> {
  if (args.apidoc === undefined) fail('apidoc is required.');
  const apidoc = objectOrJson(args.apidoc, 'apidoc');
  if (!text(apidoc.namespace)) fail('apidoc is missing the namespace field');
  const responseType = text(args.responsetype) ?? 'json';
  if (!(RESPONSE_TYPES as readonly string[]).includes(responseType)) fail(`The response type '${responseType}' is not one of ${RESPONSE_TYPES.join(', ')}.`);
  const namespace = identity.namespace;

  if (apidoc.swagger !== undefined) {
    if (apidoc.gatewayBasePath !== undefined) fail('swagger and gatewayBasePath are mutually exclusive and cannot be specified together.');
    let swagger: unknown = apidoc.swagger;
    if (typeof swagger === 'string') {
      try {
        swagger = JSON.parse(swagger);
      } catch {
        fail('swagger field cannot be parsed. Ensure it is valid JSON.');
      }
    }
    const doc = checkImportedSwagger(swagger);
    doc.basePath = normalisedBasePath(doc.basePath);
    validateFinal(doc);
    checkSize(doc);
    // An imported document replaces the API of its base path as it is.
    await apis.update(namespace, doc.basePath, () => doc, () => doc);
    return apiBody(origin, namespace, doc);
  }

  for (const field of ['gatewayBasePath', 'gatewayPath', 'gatewayMethod'] as const) if (!text(apidoc[field])) fail(`apidoc is missing the ${field} field`);
  if (typeof apidoc.action !== 'object' || apidoc.action === null) fail('apidoc is missing the action field.');
  const action = apidoc.action as Record<string, unknown>;
  for (const field of ['backendMethod', 'backendUrl', 'namespace', 'name', 'authkey'] as const) if (!text(action[field])) fail(`action is missing the ${field} field.`);
  const basePath = normalisedBasePath(String(apidoc.gatewayBasePath));
  const relPath = '/' + String(apidoc.gatewayPath).replace(/^\/+/, '');
  const verb = String(apidoc.gatewayMethod).toLowerCase();
  if (!HTTP_VERBS.includes(verb)) fail(`The operation '${String(apidoc.gatewayMethod)}' is not an HTTP method.`);
  const target = targetOf(action, namespace);
  const secureKey = typeof action.secureKey === 'string' || typeof action.secureKey === 'number' ? action.secureKey : undefined;
  const pathParameters = Array.isArray(apidoc.pathParameters) ? apidoc.pathParameters : undefined;
  const doc = await apis.update(
    namespace,
    basePath,
    () => baseSwagger(basePath, text(apidoc.apiName)),
    (current) => {
      addRoute(current, { relPath, verb, responseType, pathParameters, secureKey, target: { ...target, url: webActionUrl(origin, target, responseType) } });
      validateFinal(current);
      checkSize(current);
      return current;
    },
  );
  return apiBody(origin, namespace, doc!);
}

async function getApi(apis: ApisRepository, identity: Identity, args: Record<string, unknown>, origin: string): Promise<object> {
  // An API may be named "undefined": `get` of that name sends the basepath alone, while a listing
  // (aio rt api list) writes every unset option as the word, so only the former is a name lookup.
  const listing = args.relpath === 'undefined' || args.operation === 'undefined';
  const named = args.basepath === 'undefined' && !listing ? await findApi(apis, identity.namespace, 'undefined') : undefined;
  const basePath = queryText(args.basepath);
  const docs = named
    ? [named]
    : basePath !== undefined
      ? [await findApi(apis, identity.namespace, basePath)].filter((d): d is SwaggerDoc => d !== undefined)
      : (await apis.list(identity.namespace)).map((a) => a.doc);
  const skip = Math.max(0, Number(args.skip) || 0);
  const limit = Number(args.limit) > 0 ? Number(args.limit) : docs.length;
  return { apis: docs.slice(skip, skip + limit).map((doc) => ({ id: 'Not Used', key: 'Not Used', value: apiBody(origin, identity.namespace, doc) })) };
}

async function deleteApi(apis: ApisRepository, identity: Identity, args: Record<string, unknown>): Promise<object> {
  const basePathOrName = text(args.basepath) ?? fail('basepath is required.');
  const relPath = queryText(args.relpath);
  const verb = queryText(args.operation)?.toLowerCase();
  if (verb !== undefined && relPath === undefined) fail('When specifying an operation, the path is required.');
  const existing = await findApi(apis, identity.namespace, basePathOrName);
  if (!existing) fail(`API deletion failure: API '${basePathOrName}' does not exist.`);
  await apis.update(identity.namespace, existing!.basePath, () => undefined, (doc) => {
    if (relPath === undefined) return undefined;
    try {
      return removeRoute(doc, relPath, verb) ? doc : undefined;
    } catch (error) {
      if (error instanceof ApiDocError) fail(`API deletion failure: ${error.message}`);
      throw error;
    }
  });
  return {};
}

const OPERATIONS = { createApi, getApi, deleteApi } as const;

/**
 * `/web/whisk.system/apimgmt/<operation>[.http|.json]` on the `/api/v1` router, before the web
 * action routes. The caller's Basic auth names the namespace (OpenWhisk's `__ow_user`).
 */
export function registerApiManagementRoutes(api: Hono<ControllerEnv>, deps: ControllerDeps): void {
  const apis = new ApisRepository(deps.entities);
  api.all('/web/whisk.system/apimgmt/:operation', async (c) => {
    const name = c.req.param('operation').replace(/\.(http|json)$/, '');
    if (!Object.hasOwn(OPERATIONS, name)) throw new WhiskError(404, Messages.notFound);
    try {
      const identity = await authenticateHeader(deps.subjects, c.req.header('authorization'));
      if (!identity) fail(name === 'createApi' ? 'A valid auth key is required.' : 'Invalid authentication.');
      const args = await argumentsOf(c);
      const origin = publicOrigin(c);
      const body =
        name === 'createApi' ? await createApi(apis, identity!, args, origin) : name === 'getApi' ? await getApi(apis, identity!, args, origin) : await deleteApi(apis, identity!, args);
      return c.json(body, 200);
    } catch (error) {
      if (error instanceof ApiManagementError || error instanceof ApiDocError) return c.json({ error: error.message }, 502);
      throw error;
    }
  });
}

/**
 * The routes of every namespace's APIs: `/api/<namespace>/<basePath>/<relPath>`, any verb. The
 * API with the longest base path the request is under answers, with the route its path and verb
 * match; the web action behind it runs as its owner, as at `/api/v1/web`.
 */
export function registerApiRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  const apis = new ApisRepository(deps.entities);
  const ownerOf = ownerLookup(deps);
  const documents = new RouteDocuments(apis);
  deps.entities.onChange((namespace, type, path) => {
    if (type === 'apis') documents.forget(namespace, path);
  });
  app.all('/api/:tenant/*', cappedBody(SYSTEM_LIMITS.maxPayloadSize), async (c) => {
    const below = decodedSegments(c.req.path.slice(c.req.path.indexOf('/api/') + '/api/'.length));
    if (!below || below.length === 0) throw new WhiskError(404, Messages.notFound);
    const tenant = below.shift()!;
    if (tenant === 'v1') throw new WhiskError(404, Messages.notFound);
    const owner = await ownerOf(tenant);
    if (!owner) throw new WhiskError(404, Messages.notFound);
    // The longest base path first: each candidate is one keyed read (cached briefly), never a scan.
    for (let depth = Math.min(below.length, MAX_BASE_PATH_SEGMENTS); depth >= 0; depth--) {
      const doc = await documents.get(owner.namespace, '/' + below.slice(0, depth).join('/'));
      if (!doc) continue;
      const matched = matchRoute(doc, below.slice(depth), c.req.method.toLowerCase());
      if (!matched) continue;
      const target = parseWebActionUrl(matched.operation['x-openwhisk'].url);
      if (!target) break;
      const route: WebRoute = {
        namespace: target.namespace,
        ...(target.package ? { pkg: target.package } : {}),
        name: target.action,
        extension: target.responseType,
        extensionGiven: true,
        // An `.http` action gets the request's path (base and relative) in __ow_path, as the gateway sends it.
        path: target.responseType === 'http' ? matched.requestPath.split('/').map(encodeURIComponent).join('/') : '',
      };
      const actionOwner = target.namespace === owner.namespace ? owner : await ownerOf(target.namespace);
      if (!actionOwner) break;
      return runWebAction(c, deps, route, actionOwner, await webAction(deps, actionOwner, route), matched.secureKey);
    }
    throw new WhiskError(404, Messages.notFound);
  });
}

/** How long a route lookup reuses what it read (an API another controller changed shows within this). */
const ROUTE_CACHE_MS = 5_000;

/** API documents by namespace and base path, and their absence, for a few seconds: routes are hot paths. */
class RouteDocuments {
  private readonly cache = new LRUCache<string, { doc: SwaggerDoc | null }>({ max: 10_000, ttl: ROUTE_CACHE_MS });

  constructor(private readonly apis: ApisRepository) {}

  async get(namespace: string, basePath: string): Promise<SwaggerDoc | undefined> {
    const key = `${namespace}\u0000${apiKeyOf(basePath)}`;
    const hit = this.cache.get(key);
    if (hit) return hit.doc ?? undefined;
    const doc = (await this.apis.get(namespace, basePath))?.doc;
    this.cache.set(key, { doc: doc ?? null });
    return doc;
  }

  /** A write through this controller shows at once (`path` is the entity key, apiKeyOf's). */
  forget(namespace: string, path: string): void {
    this.cache.delete(`${namespace}\u0000${path}`);
  }
}
