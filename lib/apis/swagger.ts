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
/** The HTTP methods an operation may have (lower case, as swagger keys them). */
export const HTTP_VERBS: readonly string[] = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

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

/**
 * The assembly's operation cases, created when absent. An imported document may shape its
 * assembly otherwise; then its cases are not ours to read or change (an empty list is answered).
 */
function cases(doc: SwaggerDoc): AssemblyCase[] {
  const configuration = (doc['x-ibm-configuration'] ??= { cors: { enabled: true } });
  if (typeof configuration !== 'object' || configuration === null) return [];
  const assembly = (configuration.assembly ??= {});
  if (typeof assembly !== 'object' || assembly === null) return [];
  const execute = (assembly.execute ??= [{ 'operation-switch': { case: [] } }]);
  if (!Array.isArray(execute)) return [];
  execute[0] ??= { 'operation-switch': { case: [] } };
  if (typeof execute[0] !== 'object' || execute[0] === null) return [];
  const operationSwitch = (execute[0]['operation-switch'] ??= { case: [] });
  if (typeof operationSwitch !== 'object' || operationSwitch === null) return [];
  operationSwitch.case ??= [];
  return Array.isArray(operationSwitch.case) ? operationSwitch.case.filter((c) => typeof c === 'object' && c !== null && Array.isArray(c.operations) && Array.isArray(c.execute)) : [];
}

/** The operation under `verb` of a path: own properties only (a verb is never `constructor`). */
function operationAt(path: unknown, verb: string): SwaggerOperation | undefined {
  if (typeof path !== 'object' || path === null || !HTTP_VERBS.includes(verb) || !Object.hasOwn(path, verb)) return undefined;
  const operation = (path as Record<string, unknown>)[verb];
  return isOperation(operation) ? operation : undefined;
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
  const existing = Object.hasOwn(doc.paths, route.relPath) ? doc.paths[route.relPath] : undefined;
  const path = typeof existing === 'object' && existing !== null && !Array.isArray(existing) ? existing : {};
  path[route.verb] = operation;
  doc.paths[route.relPath] = path;
  const entry: AssemblyCase = {
    operations: [operationId],
    execute: [
      { invoke: { 'target-url': route.target.url + (route.responseType === 'http' ? '$(request.path)' : ''), verb: 'keep' } },
      ...(route.secureKey !== undefined ? [{ 'set-variable': { actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: route.secureKey }] } }] : []),
    ],
  };
  const all = assemblyCases(doc);
  if (all) {
    const at = all.findIndex((c) => c?.operations?.[0] === operationId);
    if (at >= 0) all[at] = entry;
    else all.push(entry);
  }
  return doc;
}

/** An operation with a web action behind it (`x-openwhisk` with a URL); anything else in a path is not routed. */
function isOperation(value: unknown): value is SwaggerOperation {
  if (typeof value !== 'object' || value === null || typeof (value as { operationId?: unknown }).operationId !== 'string') return false;
  const target = (value as { 'x-openwhisk'?: { url?: unknown } })['x-openwhisk'];
  return typeof target === 'object' && target !== null && typeof target.url === 'string';
}

/** The stored cases array itself (to change in place), or undefined when the assembly is shaped otherwise. */
function assemblyCases(doc: SwaggerDoc): AssemblyCase[] | undefined {
  cases(doc);
  const list = (doc['x-ibm-configuration'] as { assembly?: { execute?: Array<{ 'operation-switch'?: { case?: unknown } }> } } | undefined)?.assembly?.execute?.[0]?.['operation-switch']?.case;
  return Array.isArray(list) ? (list as AssemblyCase[]) : undefined;
}

/**
 * Removes a path (every operation under it) or one of its operations, in place; throws when
 * there is none. Returns whether any path is left.
 */
export function removeRoute(doc: SwaggerDoc, relPath: string, verb?: string): boolean {
  const path = relPath.startsWith('/') && Object.hasOwn(doc.paths, relPath) ? doc.paths[relPath] : undefined;
  if (!path) throw new ApiDocError(`path '${relPath}' does not exist in the API`);
  const removed: string[] = [];
  if (verb === undefined) {
    for (const operation of Object.values(path)) if (isOperation(operation)) removed.push(operation.operationId);
    delete doc.paths[relPath];
  } else {
    if (!HTTP_VERBS.includes(verb) || !Object.hasOwn(path, verb)) throw new ApiDocError(`path '${relPath}' with operation '${verb}' does not exist in the API`);
    const operation = path[verb];
    if (isOperation(operation)) removed.push(operation.operationId);
    delete path[verb];
    if (Object.keys(path).length === 0) delete doc.paths[relPath];
  }
  const all = assemblyCases(doc);
  if (all) {
    const kept = all.filter((c) => !removed.includes(c?.operations?.[0]));
    all.splice(0, all.length, ...kept);
  }
  return Object.keys(doc.paths).length > 0;
}

const PATH_PARAMETER = /\{([^}/]+)\}/g;
/** The same, without the global flag: `.test` keeps no state between calls. */
const HAS_PATH_PARAMETER = /\{[^}/]+\}/;

/** The `{name}` parameters of a relative path, in order. */
export function pathParametersOf(relPath: string): string[] {
  return [...relPath.matchAll(PATH_PARAMETER)].map((m) => m[1]);
}

function declaredParameters(path: Record<string, unknown>, operation: SwaggerOperation): string[] {
  const names = (list: unknown) => (Array.isArray(list) ? list.map((p) => (p as { name?: unknown }).name).filter((n): n is string => typeof n === 'string') : []);
  return [...names(path.parameters), ...names(operation.parameters)];
}

function targetUrlOf(doc: SwaggerDoc, operationId: string): string | undefined {
  const entry = cases(doc).find((c) => c.operations[0] === operationId);
  const invoke = entry?.execute.find((step) => typeof step === 'object' && step !== null && 'invoke' in step)?.invoke as { 'target-url'?: unknown } | undefined;
  return typeof invoke?.['target-url'] === 'string' ? invoke['target-url'] : undefined;
}

/** OpenWhisk's validateFinalSwagger: path parameters only in relative paths, and only to `.http` actions that get the path. */
export function validateFinal(doc: SwaggerDoc): void {
  if (HAS_PATH_PARAMETER.test(doc.basePath)) throw new ApiDocError(`The base path (${doc.basePath}) cannot have parameters. Only the relative path supports path parameters.`);
  for (const [relPath, path] of Object.entries(doc.paths)) {
    const parameters = pathParametersOf(relPath);
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
  if (typeof doc.paths !== 'object' || doc.paths === null || Array.isArray(doc.paths)) throw new ApiDocError('swagger is missing the paths field.');
  if (typeof doc.info !== 'object' || doc.info === null) throw new ApiDocError('swagger is missing the info field.');
  if (!doc.basePath.startsWith('/')) throw new ApiDocError(`The base path (${doc.basePath}) must start with '/'.`);
  for (const [relPath, path] of Object.entries(doc.paths)) {
    if (!relPath.startsWith('/')) throw new ApiDocError(`The path '${relPath}' must start with '/'.`);
    if (typeof path !== 'object' || path === null || Array.isArray(path)) throw new ApiDocError('swagger paths must be objects.');
    for (const [verb, operation] of Object.entries(path)) {
      if (!HTTP_VERBS.includes(verb)) continue;
      if (!isOperation(operation) || !parseWebActionUrl(operation['x-openwhisk'].url)) {
        throw new ApiDocError(`The operation '${verb}' needs an operationId and an x-openwhisk url of a web action (${RESPONSE_TYPES.map((t) => `.${t}`).join(', ')}).`);
      }
    }
  }
  return doc as SwaggerDoc;
}

/** The parts of a web action URL (`.../api/v1/web/<ns>/<pkg>/<action>.<type>`), or undefined. */
export function parseWebActionUrl(url: string): { namespace: string; package: string; action: string; responseType: (typeof RESPONSE_TYPES)[number] } | undefined {
  const match = /\/api\/v\d+\/web\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.(\w+))?(?:\$\(request\.path\))?$/.exec(url);
  if (!match) return undefined;
  const [, namespace, pkg, action, responseType = 'http'] = match;
  if (!(RESPONSE_TYPES as readonly string[]).includes(responseType)) return undefined;
  try {
    return {
      namespace: decodeURIComponent(namespace),
      package: pkg === 'default' ? '' : decodeURIComponent(pkg),
      action: decodeURIComponent(action),
      responseType: responseType as (typeof RESPONSE_TYPES)[number],
    };
  } catch {
    // Not percent-encoding (a URIError): not a URL of a web action.
    return undefined;
  }
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
    const operation = operationAt(path, verb) ?? (verb === 'options' ? Object.values(path).find(isOperation) : undefined);
    if (!operation) continue;
    if (!best || literal > best.literal) best = { relPath, operation, literal };
  }
  if (!best) return undefined;
  const entry = cases(doc).find((c) => c.operations[0] === best.operation.operationId);
  const actions = entry?.execute.flatMap((step) => {
    const list = (step?.['set-variable'] as { actions?: unknown } | undefined)?.actions;
    return Array.isArray(list) ? (list as Array<{ set?: unknown; value?: unknown }>) : [];
  });
  const secure = actions?.find((a) => typeof a?.set === 'string' && a.set.toLowerCase() === 'message.headers.x-require-whisk-auth')?.value;
  const requestPath = '/' + [...segments(doc.basePath), ...rest].join('/');
  return { operation: best.operation, relPath: best.relPath, requestPath, ...(typeof secure === 'string' || typeof secure === 'number' ? { secureKey: secure } : {}) };
}
