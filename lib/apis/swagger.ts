/**
 * OpenWhisk's API management documents (`/whisk.system/apimgmt`, as its API Gateway v2 path builds
 * them): a Swagger 2.0 document per base path whose operations carry `x-openwhisk` (the web action
 * behind each route) and an `x-ibm-configuration` assembly. Pure functions: building, merging and
 * removing routes, the final validation, and matching a request to a route.
 */

export interface WebActionTarget {
  namespace: string;
  /** '' for an action outside any package. */
  package: string;
  action: string;
  url: string;
}

export interface SwaggerOperation {
  operationId: string;
  parameters?: unknown[];
  'x-openwhisk': WebActionTarget;
  responses: Record<string, unknown>;
}

interface AssemblyCase {
  operations: string[];
  execute: Array<Record<string, unknown>>;
}

export interface SwaggerDoc {
  swagger: string;
  info: { title: string; version: string };
  basePath: string;
  paths: Record<string, Record<string, SwaggerOperation | unknown>>;
  'x-ibm-configuration'?: { assembly?: { execute?: Array<{ 'operation-switch'?: { case: AssemblyCase[] } }> }; cors?: unknown };
  [extension: string]: unknown;
}

/** A route added by `createApi` without a swagger document (`wsk api create`, the clients' route create). */
export interface RouteSpec {
  relPath: string;
  /** Lower case. */
  verb: string;
  target: WebActionTarget;
  responseType: string;
  pathParameters?: unknown[];
  /** The action's `require-whisk-auth` secret, sent by the gateway on the caller's behalf. */
  secureKey?: string | number;
}

export class ApiDocError extends Error {
  override name = 'ApiDocError';
}

export const RESPONSE_TYPES = ['json', 'http', 'html', 'svg', 'text'] as const;
const VERBS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export function baseSwagger(basePath: string, apiName?: string): SwaggerDoc {
  return {
    swagger: '2.0',
    info: { title: apiName || basePath, version: '1.0.0' },
    basePath,
    paths: {},
    'x-ibm-configuration': { assembly: {}, cors: { enabled: true } },
  };
}

/** OpenWhisk's operationId: the verb, then each word of the path capitalised (`get /books/{isbn}` → `getBooksIsbn`). */
export function operationIdOf(verb: string, relPath: string): string {
  const words = relPath
    .toLowerCase()
    .replace(/[^0-9a-z_-]/g, ' ')
    .split(' ')
    .filter(Boolean);
  return verb.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** The web action URL of a target: `<origin>/api/v1/web/<ns>/<pkg|default>/<action>.<type>`. */
export function webActionUrl(origin: string, target: Omit<WebActionTarget, 'url'>, responseType: string): string {
  return `${origin}/api/v1/web/${target.namespace}/${target.package || 'default'}/${target.action}.${responseType}`;
}

function cases(doc: SwaggerDoc): AssemblyCase[] {
  const configuration = (doc['x-ibm-configuration'] ??= { cors: { enabled: true } });
  const assembly = (configuration.assembly ??= {});
  const execute = (assembly.execute ??= [{ 'operation-switch': { case: [] } }]);
  if (!execute[0]) execute[0] = { 'operation-switch': { case: [] } };
  const operationSwitch = (execute[0]['operation-switch'] ??= { case: [] });
  return operationSwitch.case;
}

/** Adds (or replaces) one route in `doc`, in place, as OpenWhisk's addEndpointToSwaggerApi. */
export function addRoute(doc: SwaggerDoc, route: RouteSpec): SwaggerDoc {
  const operationId = operationIdOf(route.verb, route.relPath);
  const operation: SwaggerOperation = {
    operationId,
    ...(route.pathParameters ? { parameters: route.pathParameters } : {}),
    'x-openwhisk': route.target,
    responses: { default: { description: 'Default response' } },
  };
  doc.paths[route.relPath] ??= {};
  doc.paths[route.relPath][route.verb] = operation;
  const entry: AssemblyCase = {
    operations: [operationId],
    execute: [
      { invoke: { 'target-url': route.target.url + (route.responseType === 'http' ? '$(request.path)' : ''), verb: 'keep' } },
      ...(route.secureKey !== undefined ? [{ 'set-variable': { actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: route.secureKey }] } }] : []),
    ],
  };
  const all = cases(doc);
  const at = all.findIndex((c) => c.operations?.[0] === operationId);
  if (at >= 0) all[at] = entry;
  else all.push(entry);
  return doc;
}

function isOperation(value: unknown): value is SwaggerOperation {
  return typeof value === 'object' && value !== null && 'operationId' in value;
}

/**
 * Removes a path (every operation under it) or one of its operations, in place; throws when
 * there is none. Returns whether any path is left.
 */
export function removeRoute(doc: SwaggerDoc, relPath: string, verb?: string): boolean {
  const path = doc.paths[relPath];
  if (!path) throw new ApiDocError(`path '${relPath}' does not exist in the API`);
  const removed: string[] = [];
  if (verb === undefined) {
    for (const operation of Object.values(path)) if (isOperation(operation)) removed.push(operation.operationId);
    delete doc.paths[relPath];
  } else {
    const operation = path[verb];
    if (!operation) throw new ApiDocError(`path '${relPath}' with operation '${verb}' does not exist in the API`);
    if (isOperation(operation)) removed.push(operation.operationId);
    delete path[verb];
    if (Object.keys(path).length === 0) delete doc.paths[relPath];
  }
  const all = cases(doc);
  const kept = all.filter((c) => !removed.includes(c.operations?.[0]));
  all.splice(0, all.length, ...kept);
  return Object.keys(doc.paths).length > 0;
}

const PATH_PARAMETER = /\{([^}/]+)\}/g;

function declaredParameters(path: Record<string, unknown>, operation: SwaggerOperation): string[] {
  const names = (list: unknown) => (Array.isArray(list) ? list.map((p) => (p as { name?: unknown }).name).filter((n): n is string => typeof n === 'string') : []);
  return [...names(path.parameters), ...names(operation.parameters)];
}

function targetUrlOf(doc: SwaggerDoc, operationId: string): string | undefined {
  const entry = cases(doc).find((c) => c.operations?.[0] === operationId);
  const invoke = entry?.execute.find((step) => 'invoke' in step)?.invoke as { 'target-url'?: string } | undefined;
  return invoke?.['target-url'];
}

/** OpenWhisk's validateFinalSwagger: path parameters only in relative paths, and only to `.http` actions that get the path. */
export function validateFinal(doc: SwaggerDoc): void {
  if (PATH_PARAMETER.test(doc.basePath)) throw new ApiDocError(`The base path (${doc.basePath}) cannot have parameters. Only the relative path supports path parameters.`);
  PATH_PARAMETER.lastIndex = 0;
  for (const [relPath, path] of Object.entries(doc.paths)) {
    const parameters = [...relPath.matchAll(PATH_PARAMETER)].map((m) => m[1]);
    if (parameters.length === 0) continue;
    for (const operation of Object.values(path)) {
      if (!isOperation(operation)) continue;
      if (!operation['x-openwhisk'].url.endsWith('.http')) throw new ApiDocError("The action must use a response type of '.http' in order to receive the path parameters.");
      const targetUrl = targetUrlOf(doc, operation.operationId);
      if (targetUrl !== undefined && !targetUrl.endsWith('.http$(request.path)')) {
        throw new ApiDocError(`The target-url for operationId '${operation.operationId}' must end in '$(request.path)' in order for actions to receive the path parameters.`);
      }
      const declared = declaredParameters(path as Record<string, unknown>, operation);
      for (const name of parameters) {
        if (!declared.includes(name)) throw new ApiDocError(`The parameter '${name}' defined in path '${relPath}' does not match any of the parameters defined for the path in the swagger file.`);
      }
    }
  }
}

/** A swagger document a client sent: the fields OpenWhisk requires, and operations whose targets are web action URLs. */
export function checkImportedSwagger(value: unknown): SwaggerDoc {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiDocError(`swagger field is ${Array.isArray(value) ? 'array' : typeof value} and should be an object or a JSON string.`);
  const doc = value as Partial<SwaggerDoc>;
  if (typeof doc.basePath !== 'string') throw new ApiDocError('swagger is missing the basePath field.');
  if (typeof doc.paths !== 'object' || doc.paths === null) throw new ApiDocError('swagger is missing the paths field.');
  if (typeof doc.info !== 'object' || doc.info === null) throw new ApiDocError('swagger is missing the info field.');
  if (!doc.basePath.startsWith('/')) throw new ApiDocError(`The base path (${doc.basePath}) must start with '/'.`);
  for (const path of Object.values(doc.paths)) {
    if (typeof path !== 'object' || path === null) throw new ApiDocError('swagger paths must be objects.');
    for (const [verb, operation] of Object.entries(path)) {
      if (!VERBS.includes(verb)) continue;
      const target = (operation as { 'x-openwhisk'?: Partial<WebActionTarget> })?.['x-openwhisk'];
      if (!target || typeof target.url !== 'string' || !parseWebActionUrl(target.url)) throw new ApiDocError(`The operation '${verb}' has no x-openwhisk web action url.`);
    }
  }
  return doc as SwaggerDoc;
}

/** The parts of a web action URL (`.../api/v1/web/<ns>/<pkg>/<action>.<type>`), or undefined. */
export function parseWebActionUrl(url: string): { namespace: string; package: string; action: string; responseType: string } | undefined {
  const match = /\/api\/v\d+\/web\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.(\w+))?(?:\$\(request\.path\))?$/.exec(url);
  if (!match) return undefined;
  const [, namespace, pkg, action, responseType = 'http'] = match;
  return { namespace: decodeURIComponent(namespace), package: pkg === 'default' ? '' : decodeURIComponent(pkg), action: decodeURIComponent(action), responseType };
}

export interface MatchedRoute {
  operation: SwaggerOperation;
  relPath: string;
  /** The request's own path below the tenant (base path and relative path, as sent). */
  requestPath: string;
  secureKey?: string | number;
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/**
 * The route of `doc` a request path (below the base path's segments) and verb go to: literal
 * segments match exactly, `{name}` any one segment; a literal path wins over a parameterised one.
 * OPTIONS goes to any operation of a matching path (the web action answers CORS).
 */
export function matchRoute(doc: SwaggerDoc, rest: string[], verb: string): MatchedRoute | undefined {
  let best: { relPath: string; operation: SwaggerOperation; literal: number } | undefined;
  for (const [relPath, path] of Object.entries(doc.paths)) {
    const pattern = segments(relPath);
    if (pattern.length !== rest.length) continue;
    let literal = 0;
    const matches = pattern.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return true;
      literal++;
      return part === rest[i];
    });
    if (!matches) continue;
    const operation = path[verb] ?? (verb === 'options' ? Object.values(path).find(isOperation) : undefined);
    if (!isOperation(operation)) continue;
    if (!best || literal > best.literal) best = { relPath, operation, literal };
  }
  if (!best) return undefined;
  const entry = cases(doc).find((c) => c.operations?.[0] === best.operation.operationId);
  const header = entry?.execute.flatMap((step) => ((step['set-variable'] as { actions?: Array<{ set?: string; value?: unknown }> } | undefined)?.actions ?? []));
  const secure = header?.find((a) => a.set?.toLowerCase() === 'message.headers.x-require-whisk-auth')?.value;
  const requestPath = '/' + [...segments(doc.basePath), ...rest].join('/');
  return { operation: best.operation, relPath: best.relPath, requestPath, ...(typeof secure === 'string' || typeof secure === 'number' ? { secureKey: secure } : {}) };
}

/** The base path's segments, for finding which API of a namespace a request path is under. */
export function basePathSegments(doc: SwaggerDoc): string[] {
  return segments(doc.basePath);
}
