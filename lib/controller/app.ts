import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { getPath } from 'hono/utils/url';
import pino from 'pino';
import { SYSTEM_LIMITS, userLimits } from '../model/limits';
import { registerActionRoutes } from './actions';
import { registerAlarmRoutes } from './alarm-routes';
import { registerLogForwardingRoutes } from './log-forwarding';
import { registerApiManagementRoutes, registerApiRoutes } from './api-management';
import { registerActivationRoutes } from './activations';
import { registerPackageRoutes } from './packages';
import { registerRuleRoutes } from './rules';
import { registerTriggerRoutes } from './triggers';
import { registerWebRoutes } from './web';
import { basicAuth } from './auth';
import { claimantOf } from '../store/invoker-registry';
import type { ControllerDeps, ControllerEnv } from './context';
import { cappedBody } from './body-limit';
import { Messages, WhiskError } from './errors';
import { apiInfo, platformInfo } from './info';
import { newTransactionId } from './invoke';
import { resolveNamespace } from './request';

const log = pino({ name: 'controller', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' });

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, DELETE, POST, PUT, HEAD',
  'Access-Control-Allow-Headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

function errorResponse(c: Context<ControllerEnv>, status: number, message: string): Response {
  // A 413 is sent before the body is read: the connection cannot be reused for another request.
  if (status === 413) c.header('Connection', 'close');
  return c.json({ error: message, code: c.get('transactionId') ?? newTransactionId() }, status as 400);
}

const requireAdmin: MiddlewareHandler<ControllerEnv> = async (c, next) => {
  if (!c.get('identity').admin) throw new WhiskError(403, Messages.notAuthorized);
  await next();
};

/**
 * One access-log line per request: the path without its query (web action parameters and any
 * secret a client put there stay out of the log), never a header.
 */
function logRequest(c: Context<ControllerEnv>, started: number): void {
  log.info(
    { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round((performance.now() - started) * 10) / 10, transactionId: c.get('transactionId'), namespace: c.get('identity')?.namespace },
    'request',
  );
}

/**
 * The controller: OpenWhisk's REST API v1 as one Hono app. The same app serves a Node HTTP server
 * (local) and API Gateway proxy events (functions/controller/handler.ts).
 */
/** `actions/<pkg>/`: the slash makes it the package's listing, not an action. */
const PACKAGE_LISTING = /^\/api\/v1\/namespaces\/[^/]+\/actions\/[^/]+\/$/;

/**
 * The path routes match: OpenWhisk's REST routes take one trailing slash (`/namespaces/_/actions/`),
 * so it is dropped there, except where it means something: a package's action listing, and a web
 * action's path, which is the action's to read.
 */
/** `/api/v1/namespaces/{ns}/actions/{name}`, packaged or not, as the API sub-app sees it. */
const ACTION_PATH = /^\/api\/v1\/namespaces\/[^/]+\/actions\/./;
/**
 * OpenWhisk's request cap (`max-content-length`, 50 MB) and the parameters: 48 MB of code may
 * grow as a JSON string (escapes), and annotations may take 1 MB more. Each part is checked on its own.
 */
const ACTION_PUT_MAX_BYTES = 50 * 1024 * 1024 + SYSTEM_LIMITS.maxParameterSize;

export function routedPath(request: Request): string {
  const path = getPath(request);
  const rest = path.startsWith('/api/v1/') && !path.startsWith('/api/v1/web/') && !PACKAGE_LISTING.test(path);
  return rest && path.endsWith('/') && !path.endsWith('//') ? path.slice(0, -1) : path;
}

export function createApp(deps: ControllerDeps): Hono<ControllerEnv> {
  const app = new Hono<ControllerEnv>({ getPath: routedPath });

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requested = c.req.header('x-request-id');
    c.set('transactionId', requested && /^[\w-]{1,64}$/.test(requested) ? requested : newTransactionId());
    try {
      // Web actions answer CORS and OPTIONS themselves (web-custom-options passes OPTIONS to the action).
      if (c.req.path.startsWith('/api/v1/web/')) return await next();
      for (const [name, value] of Object.entries(CORS_HEADERS)) c.header(name, value);
      if (c.req.method === 'OPTIONS') return c.body(null, 200);
      await next();
    } finally {
      logRequest(c, started);
    }
  });

  app.get('/', (c) => c.json(platformInfo()));
  app.get('/api/v1', (c) => c.json(apiInfo()));

  // Operators' view of the invoker fleet (OpenWhisk's `GET /invokers`), for admin subjects only.
  // Hono's `/x/*` matches `/x` too: one registration guards the collection and what is under it.
  app.use('/invokers/*', basicAuth(deps.subjects), requireAdmin);
  app.get('/invokers', async (c) => c.json(Object.fromEntries((await deps.invokers.list()).map((i) => [claimantOf(i), i.status]))));
  app.get('/invokers/details', async (c) => c.json(await deps.invokers.list()));

  const api = new Hono<ControllerEnv>();
  // Payloads are capped at 1 MB; an action's PUT carries its code, up to OpenWhisk's 48 MB (checked
  // for the code itself in actions.ts) and its parameters.
  api.use('*', cappedBody((c) => (c.req.method === 'PUT' && ACTION_PATH.test(c.req.path) ? ACTION_PUT_MAX_BYTES : SYSTEM_LIMITS.maxPayloadSize)));
  api.use('/namespaces/*', basicAuth(deps.subjects));
  api.get('/namespaces', (c) => c.json([c.get('identity').namespace]));
  api.get('/namespaces/:ns/limits', (c) => {
    resolveNamespace(c);
    const limits = userLimits(c.get('identity').limits);
    // OpenWhisk writes this one as its ByteSize, a string with a unit.
    return c.json({ ...limits, maxParameterSize: `${limits.maxParameterSize} B` });
  });
  registerActionRoutes(api, deps);
  registerActivationRoutes(api, deps);
  registerPackageRoutes(api, deps);
  registerTriggerRoutes(api, deps);
  registerRuleRoutes(api, deps);
  registerApiManagementRoutes(api, deps);
  registerWebRoutes(api, deps);
  if (deps.alarms) {
    registerAlarmRoutes(api, deps.alarms, async (namespace, name) => (await deps.entities.get(namespace, 'triggers', name)) !== undefined, {
      limitCronFields: deps.alarms.limitCronFields,
    });
  }
  // A known resource with a method it does not take: 405, as OpenWhisk answers.
  const collections = ['actions', 'activations', 'packages', 'triggers', 'rules'].map((name) => `/namespaces/:ns/${name}/*`);
  api.on(['PATCH'], collections, () => {
    throw new WhiskError(405, 'HTTP method not allowed, supported methods: GET, PUT, POST, DELETE');
  });
  // Activations are only read.
  api.on(['PUT', 'POST', 'DELETE'], ['/namespaces/:ns/activations', '/namespaces/:ns/activations/*'], () => {
    throw new WhiskError(405, 'HTTP method not allowed, supported methods: GET');
  });
  app.route('/api/v1', api);
  registerApiRoutes(app, deps);
  registerLogForwardingRoutes(app, deps);

  app.notFound((c) => errorResponse(c, 404, Messages.notFound));
  app.onError((error, c) => {
    if (error instanceof WhiskError) return errorResponse(c, error.status, error.message);
    log.error({ err: error, transactionId: c.get('transactionId') }, 'request failed');
    return errorResponse(c, 500, Messages.internal);
  });
  return app;
}
