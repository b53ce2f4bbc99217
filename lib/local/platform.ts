import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAwsClients } from '../aws-clients';
import { ensureQueues } from '../bus/invocation-queue';
import { configFromEnv } from '../config';
import { limitOverridesSchema, type LimitOverrides } from '../model/limits';
import { isValidEntityName } from '../model/names';
import { ensureTables } from '../store/tables';
import { generateCredentials, SubjectsRepository } from '../store/subjects';
import { EntitiesRepository } from '../store/entities';
import { installSystemPackage } from '../catalog/system-packages';
import { standardCatalog } from '../catalog/standard';
import { alarmsPackage } from '../alarms/package';
import { startProcess, type ManagedProcess } from './processes';
import { Supervisor, type SupervisedName } from './supervisor';
import { HeldPort } from './held-port';
import { readStatus } from '../invoker/status-server';
import { choosesProcesses } from '../invoker/factory';
import { ACTIONS_AS_PROCESSES_ENV } from '../model/runtimes';
import type { PoolStatus } from '../invoker/container-pool';

/** What the invoker's status socket answers. */
export interface InvokerStatus {
  id: string;
  factory: string;
  pool: PoolStatus;
}

/**
 * The operator's namespace. It owns nothing: the operator key reads platform status, and cannot
 * change the system packages in `whisk.system` (whose feed actions receive users' keys).
 */
const ADMIN_NAMESPACE = 'whisk.admin';

/** OpenWhisk standalone's well-known guest key, so existing wskprops keep working. */
export const OPENWHISK_GUEST_AUTH =
  '23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP';

export interface PlatformOptions {
  dataDir: string;
  /** Controller port; 0 picks a free one. */
  port: number;
  host: string;
  guestAuth: string;
  guestNamespace: string;
  /**
   * Throttle overrides for the guest subject (`SKYWHISK_GUEST_LIMITS`, JSON). Unset, the guest keeps
   * the limits it has (OpenWhisk's defaults, or what `skywhisk admin limits set` gave it).
   */
  guestLimits?: LimitOverrides;
  /** Extra environment for every child (tests shorten timeouts with it). */
  env?: NodeJS.ProcessEnv;
  /** Told what is starting when a step may take a while. */
  onProgress?: (message: string) => void;
  /** Told when the supervisor replaced a crashed process. */
  onEvent?: (message: string) => void;
}

export interface RunningPlatform {
  apiHost: string;
  auth: string;
  namespace: string;
  /** The embedded endpoint's URL, or the external one when `AWS_ENDPOINT_URL` was given. */
  endpointUrl: string;
  /** The credentials the embedded endpoint accepts (undefined with an external endpoint). */
  endpointCredentials?: { accessKeyId: string; secretAccessKey: string };
  /** The operator's `uuid:key` (admin: `GET /invokers`), also in `<data dir>/admin-auth`. */
  adminAuth: string;
  /** The current processes: the supervisor replaces any of them that crashes. */
  processes: { readonly endpoint?: ManagedProcess; readonly controller: ManagedProcess; readonly invoker: ManagedProcess };
  supervisor: Supervisor;
  /** The data dir's platform id (`<data dir>/platform-id`); the invoker's id is `invoker-<platform id>` unless `SKYWHISK_INVOKER_ID` says. */
  platformId: string;
  /** The environment invokers start with (another invoker may join with its own `SKYWHISK_INVOKER_ID`). */
  invokerEnv: Readonly<NodeJS.ProcessEnv>;
  logDir: string;
  wskpropsFile: string;
  /** Told when the platform cannot go on: a process that exited cannot be started again. */
  onFatal(listener: (reason: string) => void): void;
  /** The invoker's pool status, read from its unix socket (which moves when the invoker restarts). */
  invokerStatus(): Promise<InvokerStatus>;
  /** Stops in order: controller (no new work), invoker (drains), endpoint. */
  stop(): Promise<void>;
  /** Restarts one process with the same settings (the endpoint on the same port, with the same data). */
  restart(name: SupervisedName): Promise<void>;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformOptions {
  return {
    dataDir: resolve(env.SKYWHISK_DATA_DIR ?? '.skywhisk'),
    port: Number(env.SKYWHISK_PORT ?? 3233),
    host: env.SKYWHISK_HOST ?? '127.0.0.1',
    guestAuth: env.SKYWHISK_GUEST_AUTH ?? OPENWHISK_GUEST_AUTH,
    guestNamespace: env.SKYWHISK_GUEST_NAMESPACE ?? 'guest',
    guestLimits: env.SKYWHISK_GUEST_LIMITS ? parseGuestLimits(env.SKYWHISK_GUEST_LIMITS) : undefined,
  };
}

function parseGuestLimits(json: string): LimitOverrides {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error('SKYWHISK_GUEST_LIMITS is not JSON.');
  }
  const parsed = limitOverridesSchema.safeParse(value);
  if (!parsed.success) throw new Error(`SKYWHISK_GUEST_LIMITS: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Starts the embedded platform: the AWS-compatible endpoint (unless `AWS_ENDPOINT_URL` points at
 * one already, such as LocalStack), the tables, queues and guest subject, the controller, and the
 * invoker, each its own process.
 */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  if (!/^[^:\s]+:[^:\s]+$/.test(options.guestAuth)) throw new Error('The guest auth must have the form uuid:key (SKYWHISK_GUEST_AUTH).');
  if (!isValidEntityName(options.guestNamespace)) throw new Error(`'${options.guestNamespace}' is not a valid namespace name (SKYWHISK_GUEST_NAMESPACE).`);
  // Tables, queues, logs and keys: only the platform's own user may read any of it (action
  // processes run as other users).
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(options.dataDir, 0o700);
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const fatalListeners: Array<(reason: string) => void> = [];
  const fatal = (reason: string) => fatalListeners.forEach((listener) => listener(reason));
  const supervisor = new Supervisor({
    onRestart: (name, code) => options.onEvent?.(`${name} exited unexpectedly (${code}); restarted it. See ${join(logDir, `${name}.log`)}`),
    onGiveUp: (name, reason) => fatal(`${reason}; giving up. See ${join(logDir, `${name}.log`)}`),
  }, baseEnv.SKYWHISK_RESTART_MAX_BACKOFF_MS ? Number(baseEnv.SKYWHISK_RESTART_MAX_BACKOFF_MS) : undefined);
  let heldPort: HeldPort | undefined;
  let endpointUrl = baseEnv.AWS_ENDPOINT_URL;
  let endpointCredentials: RunningPlatform['endpointCredentials'];
  if (!endpointUrl) {
    // Fresh credentials each start: the endpoint accepts only requests signed with this secret,
    // which no action can read, so action code on the same loopback cannot reach the tables and queues.
    endpointCredentials = { accessKeyId: `SKYWHISK${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('hex') };
    // This process holds the endpoint's port while the platform runs: a restarted endpoint serves
    // the same port, and nothing else can take it while the endpoint is down.
    const port = await HeldPort.listen(Number(baseEnv.SKYWHISK_ENDPOINT_PORT ?? 0), '127.0.0.1');
    heldPort = port;
    const endpointEnv = {
      ...baseEnv,
      SKYWHISK_DATA_DIR: join(options.dataDir, 'endpoint'),
      SKYWHISK_ENDPOINT_HELD_PORT: String(port.port),
      SKYWHISK_ENDPOINT_ACCESS_KEY_ID: endpointCredentials.accessKeyId,
      SKYWHISK_ENDPOINT_SECRET_ACCESS_KEY: endpointCredentials.secretAccessKey,
    };
    await supervisor.add('endpoint', async () => {
      const endpoint = await startProcess('endpoint', 'local/endpoint-main.ts', endpointEnv, logDir);
      port.serveWith(endpoint.child);
      return endpoint;
    });
    endpointUrl = `http://127.0.0.1:${port.port}`;
    baseEnv.AWS_ACCESS_KEY_ID = endpointCredentials.accessKeyId;
    baseEnv.AWS_SECRET_ACCESS_KEY = endpointCredentials.secretAccessKey;
    delete baseEnv.AWS_SESSION_TOKEN;
    delete baseEnv.AWS_PROFILE;
  }
  // Controllers dispatch blocking activations straight to invokers, authenticated with a secret
  // made fresh each start (action code shares the loopback); `SKYWHISK_DIRECT_DISPATCH=false`
  // sends every activation through the queue instead.
  if (baseEnv.SKYWHISK_DIRECT_DISPATCH === 'false') delete baseEnv.SKYWHISK_DISPATCH_SECRET;
  else baseEnv.SKYWHISK_DISPATCH_SECRET ||= randomBytes(32).toString('hex');
  baseEnv.AWS_ENDPOINT_URL = endpointUrl;
  baseEnv.AWS_REGION ??= 'us-east-1';
  const config = configFromEnv(baseEnv);
  // The supervisor bootstraps with the same settings its children get from their environment.
  const { dynamo, sqs } = createAwsClients(
    {
      endpoint: endpointUrl,
      region: baseEnv.AWS_REGION,
      ...(baseEnv.AWS_ACCESS_KEY_ID && baseEnv.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: baseEnv.AWS_ACCESS_KEY_ID, secretAccessKey: baseEnv.AWS_SECRET_ACCESS_KEY } }
        : {}),
    },
    baseEnv,
  );
  await ensureTables(dynamo, config);
  await ensureQueues(sqs, config.queues, {
    visibilityTimeoutS: baseEnv.SKYWHISK_QUEUE_VISIBILITY_S ? Number(baseEnv.SKYWHISK_QUEUE_VISIBILITY_S) : undefined,
    maxReceiveCount: baseEnv.SKYWHISK_QUEUE_MAX_RECEIVE ? Number(baseEnv.SKYWHISK_QUEUE_MAX_RECEIVE) : undefined,
  });
  // The system packages every namespace can use (the alarms feed, the standard catalog), brought up to date at each start.
  const systemEntities = new EntitiesRepository(dynamo, config.tables.entities);
  for (const pkg of [alarmsPackage(), ...standardCatalog()]) await installSystemPackage(systemEntities, pkg);
  const [uuid, key] = options.guestAuth.split(':');
  const subjects = new SubjectsRepository(dynamo, config.tables.subjects);
  const guestLimits = options.guestLimits ?? (await subjects.byUuid(uuid))?.limits;
  await subjects.put({ uuid, key, subject: options.guestNamespace, namespace: options.guestNamespace, limits: guestLimits });

  const adminAuth = await installAdmin(subjects, options.dataDir);

  // Without Docker the invoker runs actions as processes: the controller then refuses actions that
  // need an image, and the invoker keeps to processes (a Docker engine that starts later would
  // make it disagree with the controller). An operator's own setting wins (another invoker may join).
  if (baseEnv[ACTIONS_AS_PROCESSES_ENV] === undefined && (await choosesProcesses(baseEnv))) {
    baseEnv[ACTIONS_AS_PROCESSES_ENV] = 'true';
    baseEnv.SKYWHISK_CONTAINER_FACTORY = 'process';
  }
  const controllerEnv = { ...baseEnv, SKYWHISK_PORT: String(options.port), SKYWHISK_HOST: options.host };
  const controller = await supervisor.add('controller', () => startProcess('controller', 'local/controller-main.ts', controllerEnv, logDir));
  const apiHost = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${controller.ready.port}`;
  // Later restarts reuse the port the controller got, so clients keep working.
  controllerEnv.SKYWHISK_PORT = String(controller.ready.port);
  const platformId = platformIdOf(options.dataDir);
  const invokerEnv = {
    ...baseEnv,
    SKYWHISK_API_HOST: apiHost,
    SKYWHISK_POLL_WAIT_S: baseEnv.SKYWHISK_POLL_WAIT_S ?? '2',
    SKYWHISK_PLATFORM_ID: platformId,
    // Its own id per data dir: two platforms on one machine (one Docker engine) never share one.
    SKYWHISK_INVOKER_ID: baseEnv.SKYWHISK_INVOKER_ID || `invoker-${platformId}`,
  };
  // The first start with Docker builds the runtime images (about a minute) before it is ready.
  const INVOKER_READY_MS = 600_000;
  options.onProgress?.('Starting the invoker (with Docker, the first start builds the runtime images: about a minute)...');
  await supervisor.add('invoker', () => startProcess('invoker', 'invoker/main.ts', invokerEnv, logDir, INVOKER_READY_MS));

  const wskpropsFile = join(options.dataDir, 'wskprops');
  // It holds a key: readable by its owner only.
  writeFileSync(wskpropsFile, `APIHOST=${apiHost}\nAUTH=${options.guestAuth}\nNAMESPACE=${options.guestNamespace}\n`, { mode: 0o600 });
  const platform: RunningPlatform = {
    apiHost,
    auth: options.guestAuth,
    adminAuth,
    namespace: options.guestNamespace,
    endpointUrl,
    endpointCredentials,
    processes: {
      get endpoint() {
        return heldPort ? supervisor.get('endpoint') : undefined;
      },
      get controller() {
        return supervisor.get('controller');
      },
      get invoker() {
        return supervisor.get('invoker');
      },
    },
    supervisor,
    platformId,
    invokerEnv,
    logDir,
    wskpropsFile,
    invokerStatus: async () => (await readStatus(platform.processes.invoker.ready.socketPath ?? '')) as InvokerStatus,
    onFatal: (listener) => fatalListeners.push(listener),
    async stop() {
      await supervisor.shutdown(330_000);
      await supervisor.stopOne('controller', 70_000);
      await supervisor.stopOne('invoker', 330_000);
      if (heldPort) {
        await supervisor.stopOne('endpoint', 10_000);
        heldPort.close();
      }
    },
    async restart(name) {
      await supervisor.restart(name, name === 'controller' ? 70_000 : name === 'endpoint' ? 10_000 : 330_000);
    },
  };
  return platform;
}

/** The data dir's platform id, made on its first start: it names the invoker and labels its containers. */
function platformIdOf(dataDir: string): string {
  const file = join(dataDir, 'platform-id');
  const existing = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (/^[0-9a-f]{12}$/.test(existing)) return existing;
  const id = randomBytes(6).toString('hex');
  writeFileSync(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/**
 * The operator subject (`whisk.admin`, admin: may read `GET /invokers`). Its key is made on the
 * first start and kept in `<data dir>/admin-auth`, readable by its owner only.
 */
async function installAdmin(subjects: SubjectsRepository, dataDir: string): Promise<string> {
  const file = join(dataDir, 'admin-auth');
  let auth = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!/^[^:\s]+:[^:\s]+$/.test(auth)) {
    const { uuid, key } = generateCredentials();
    auth = `${uuid}:${key}`;
    writeFileSync(file, `${auth}\n`, { mode: 0o600 });
  }
  const [uuid, key] = auth.split(':');
  await subjects.put({ uuid, key, subject: ADMIN_NAMESPACE, namespace: ADMIN_NAMESPACE, admin: true });
  return auth;
}
