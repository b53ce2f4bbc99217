import Docker from 'dockerode';
import pino from 'pino';
import { buildImages } from '../images/build';
import { awsClients } from '../aws-clients';
import { DEFAULT_VISIBILITY_TIMEOUT_S, InvocationQueue } from '../bus/invocation-queue';
import { configFromEnv } from '../config';
import { announceReady, onShutdown } from '../local/child';
import { ActivationsRepository } from '../store/activations';
import { EntitiesRepository } from '../store/entities';
import { activeRuntimes, NATIVE_RUNTIME_KIND, ownImageForKind, runtimeImageOverrides } from '../model/runtimes';
import { verifyActionNetwork } from './network-self-test';
import { pullMissingImages } from './ecr-pull';
import { resolveInvokerId } from './ecs-task';
import { INVOKER_LABEL, PLATFORM_LABEL } from './docker-factory';
import { createContainerFactory } from './factory';
import { assertInvokerIdFree, DEFAULT_DRAIN_MS, Invoker } from './invoker';
import { DeadLetterDrainer } from './dead-letters';
import { FLEET_METRICS_ENV, FleetActivityReporter } from '../fleet/activity-metrics';
import { DEFAULT_LEASE_MS, DEFAULT_OFFLINE_AFTER_MS, InvokerRegistry } from '../store/invoker-registry';
import { ThrottleCounters } from '../store/throttle-counters';
import { ContainerPool } from './container-pool';
import { parsePrewarmCheckInterval, parseStemCells, PREWARM_CHECK_ENV, runnableStemCells, STEM_CELLS_ENV } from './stem-cell-settings';
import { startStatusServer } from './status-server';
import { startDispatchServer, type DirectRunner } from './dispatch-server';
import { directRunsOfLiveInvokers } from './direct-runs';
import { resolveDispatchUrl } from './dispatch-address';
import { DEFAULT_RECONCILE_AFTER_MS, SlotReconciler } from './slot-reconciler';

/** How long an invoker whose supervisor died waits for its activations before recording them as failed. */
const ORPHAN_DRAIN_MS = 10_000;

/**
 * Invoker process entry, the same locally and on ECS. Environment: the platform config (see
 * lib/config.ts), `SKYWHISK_INVOKER_ID` (on ECS, default the task id), `SKYWHISK_INVOKER_CONCURRENCY`,
 * `SKYWHISK_POLL_WAIT_S`, `SKYWHISK_API_HOST`, `SKYWHISK_IDLE_CONTAINER_MS`,
 * `SKYWHISK_CONTAINER_FACTORY`, `SKYWHISK_SANDBOX`, `SKYWHISK_RUNTIME_IMAGES` (the deployment's
 * runtime images, pulled instead of built locally), `SKYWHISK_EXCLUSIVE_HOST` (`true`: this invoker
 * is the only one using its Docker engine), `SKYWHISK_INVOKER_HEARTBEAT_MS` (3 s) and
 * `SKYWHISK_INVOKER_OFFLINE_MS` (10 s: an invoker silent this long shows as offline),
 * `SKYWHISK_INVOKER_LEASE_MS` (60 s: one silent this long has its claims recorded as abandoned by
 * other invokers), `SKYWHISK_INVOKER_DRAIN_MS` (310 s: how long a stop waits for activations in
 * flight before ending them in error records), `SKYWHISK_INVOKER_SWEEP_MS` (30 s: how often claims
 * of gone invokers and slots nothing holds are looked for), `SKYWHISK_SLOT_RECONCILE_AFTER_MS`
 * (60 s: a slot younger than this is never reconciled), `SKYWHISK_DUPLICATE_RECHECK_S` (30 s: a duplicate of a live invoker's activation is
 * looked at again after this long), `SKYWHISK_FLEET_METRICS` (the fleet's name: when set, its
 * activity goes to standard output as CloudWatch metrics every 30 s).
 */
async function main(): Promise<void> {
  // One stream for the log and the activity lines, so neither can land inside the other's.
  const stdout = pino.destination({ dest: 1, sync: false });
  const log = pino({ name: 'invoker', level: process.env.SKYWHISK_LOG_LEVEL ?? 'info' }, stdout);
  const config = configFromEnv();
  const { dynamo, sqs } = awsClients();
  const invokerId = await resolveInvokerId(process.env);
  const instance = `${process.pid}-${Date.now().toString(36)}`;
  const registry = new InvokerRegistry(
    dynamo,
    config.tables.coordination,
    Number(process.env.SKYWHISK_INVOKER_OFFLINE_MS ?? DEFAULT_OFFLINE_AFTER_MS),
    Number(process.env.SKYWHISK_INVOKER_LEASE_MS ?? DEFAULT_LEASE_MS),
  );
  // Before anything touches containers: a second process of a live id would remove the first's.
  await assertInvokerIdFree(registry, { id: invokerId, instance });
  const apiHost = process.env.SKYWHISK_API_HOST ?? 'http://127.0.0.1:3233';
  // A bad manifest fails here, at start, not at the first activation of a kind.
  const manifest = runtimeImageOverrides(process.env);
  const kinds = activeRuntimes();
  const factory = await createContainerFactory(process.env, invokerId);
  // What keeps one tenant's actions from another's is the first thing an operator reads.
  if (factory.singleTenant) log.warn({ factory: factory.describe }, `action isolation: ${factory.describe}`);
  else log.info({ factory: factory.describe }, `action isolation: ${factory.describe}`);
  if (factory.name === 'docker') {
    // A deployment's images come from its registry (ECR); without a manifest they are built here.
    if (process.env.SKYWHISK_RUNTIME_IMAGES) await pullMissingImages(new Docker(), Object.values(manifest), { log: (line) => log.info(line) });
    else await buildImages(new Docker(), { log: (line) => log.info(line) });
    // Images a runtimes manifest names that are not ours (OpenWhisk's, say) are fetched meanwhile; one
    // that cannot be pulled fails its activations with a record that names it (docker-factory.ts).
    const foreign = kinds.filter((k) => k.protocol === 'openwhisk').map((k) => k.image);
    for (const image of new Set(foreign)) {
      void pullMissingImages(new Docker(), [image], { log: (line) => log.info(line) }).catch((error: unknown) => log.warn({ err: error, image }, 'a runtime image of the manifest could not be pulled'));
    }
    // An ECS ec2-mode invoker has its instance to itself: every Skywhisk container on it was left
    // by a predecessor (whose task id, and so invoker id, was another).
    if (process.env.SKYWHISK_EXCLUSIVE_HOST === 'true') await removeSkywhiskContainers(new Docker(), (removed) => log.warn({ removed }, 'removed containers left by an earlier invoker on this host'));
    const removed = await factory.removeOrphans();
    if (removed) log.warn({ removed }, 'removed containers left by an earlier instance of this invoker');
    // Actions may not reach instance metadata or ECS credentials: prove it before running any (skipped on `host`).
    const network = process.env.SKYWHISK_DOCKER_NETWORK ?? 'host';
    const isolation = await verifyActionNetwork(new Docker(), { network, image: ownImageForKind(NATIVE_RUNTIME_KIND), labels: { [INVOKER_LABEL]: invokerId, ...(process.env.SKYWHISK_PLATFORM_ID ? { [PLATFORM_LABEL]: process.env.SKYWHISK_PLATFORM_ID } : {}) } });
    if (isolation.checked) log.info({ network, probed: isolation.probed }, 'action network: no metadata or credentials endpoint reachable');
    else log.info({ network }, `action network not checked: ${isolation.reason}`);
  }
  // Blocking activations come straight from controllers when the platform has a dispatch secret.
  const dispatchSecret = process.env.SKYWHISK_DISPATCH_SECRET;
  // Nothing this process starts may inherit it.
  delete process.env.SKYWHISK_DISPATCH_SECRET;
  // Set once the invoker exists; until then the dispatch server answers 503.
  const direct: { runner?: DirectRunner } = {};
  const dispatchServer = dispatchSecret
    ? await startDispatchServer(
        { secret: dispatchSecret, host: process.env.SKYWHISK_DISPATCH_HOST ?? '127.0.0.1', port: Number(process.env.SKYWHISK_DISPATCH_PORT ?? 0) },
        () => direct.runner,
        (error) => log.error({ err: error }, 'direct dispatch failed inside the invoker'),
      )
    : undefined;
  const dispatchUrl = dispatchServer
    ? await resolveDispatchUrl(process.env, { host: process.env.SKYWHISK_DISPATCH_HOST ?? '127.0.0.1', port: dispatchServer.port })
    : undefined;
  const options = {
    id: invokerId,
    dispatchUrl,
    instance,
    maxConcurrent: Number(process.env.SKYWHISK_INVOKER_CONCURRENCY ?? 16),
    pollWaitSeconds: Number(process.env.SKYWHISK_POLL_WAIT_S ?? 20),
    apiHost,
    visibilityTimeoutS: Number(process.env.SKYWHISK_QUEUE_VISIBILITY_S ?? DEFAULT_VISIBILITY_TIMEOUT_S),
    factory: factory.describe,
    heartbeatMs: Number(process.env.SKYWHISK_INVOKER_HEARTBEAT_MS ?? 3000),
    sweepEveryMs: Number(process.env.SKYWHISK_INVOKER_SWEEP_MS ?? 30_000),
    duplicateRecheckS: Number(process.env.SKYWHISK_DUPLICATE_RECHECK_S ?? 30),
  };
  const activations = new ActivationsRepository(dynamo, config.tables.activations, config.activationRetentionDays);
  const throttles = new ThrottleCounters(dynamo, config.tables.coordination);
  const invoker = new Invoker(
    options,
    {
      queue: new InvocationQueue(sqs, config.queues.invoke),
      entities: new EntitiesRepository(dynamo, config.tables.entities),
      activations,
      registry,
      throttles,
      slots: new SlotReconciler(
        {
          queues: [new InvocationQueue(sqs, config.queues.invoke), new InvocationQueue(sqs, config.queues.invokeDeadLetter)],
          throttles,
          activations,
          claimants: () => registry.unsweptClaimants(),
          directRuns: () => (dispatchSecret && direct.runner ? directRunsOfLiveInvokers(registry, dispatchSecret, direct.runner) : Promise.resolve(dispatchSecret ? undefined : [])),
        },
        log.child({ component: 'slots' }),
        Number(process.env.SKYWHISK_SLOT_RECONCILE_AFTER_MS ?? DEFAULT_RECONCILE_AFTER_MS),
      ),
      pool: new ContainerPool(
        factory,
        {
          memoryBudgetMb: Number(process.env.SKYWHISK_MEMORY_BUDGET_MB ?? 2048),
          pauseGraceMs: Number(process.env.SKYWHISK_PAUSE_GRACE_MS ?? 10_000),
          idleTimeoutMs: Number(process.env.SKYWHISK_IDLE_CONTAINER_MS ?? 600_000),
          stemCells: runnableStemCells(parseStemCells(process.env[STEM_CELLS_ENV]), factory.name),
          prewarmCheckIntervalMs: parsePrewarmCheckInterval(process.env[PREWARM_CHECK_ENV]),
        },
        { __OW_API_HOST: apiHost },
        (error, what) => log.warn({ err: error }, `container pool could not ${what}`),
      ),
    },
    log,
  );
  // Every invoker also ends the activations whose messages reached the dead-letter queue in records.
  const drainer = new DeadLetterDrainer(
    { deadLetters: new InvocationQueue(sqs, config.queues.invokeDeadLetter), activations, registry, throttles },
    { self: options, pollWaitSeconds: options.pollWaitSeconds },
    log.child({ component: 'dead-letters' }),
  );
  direct.runner = { runDirect: (message, sentAt, onAccepted) => invoker.runDirect(message, sentAt, onAccepted), running: () => invoker.runningDirect(), holder: invoker.holder };
  // On AWS, the activity the fleet's alarms read (lib/fleet/activity-metrics.ts), counted from
  // before the first activation can start.
  const fleet = process.env[FLEET_METRICS_ENV];
  const activity = fleet ? new FleetActivityReporter(fleet, () => ({ ...invoker.status(), deadLetters: drainer.recorded }), (line) => stdout.write(`${line}\n`)) : undefined;
  await invoker.start();
  drainer.start();
  log.info({ factory: factory.describe }, 'invoker started');
  const statusServer = await startStatusServer(() => ({ factory: factory.describe, ...invoker.status() }));
  // The pool's state in the log, whenever it changed in the last minute.
  let lastLogged = '';
  const poolLog = setInterval(() => {
    const state = JSON.stringify(invoker.status().pool);
    if (state !== lastLogged) log.info({ pool: invoker.status().pool }, 'pool state');
    lastLogged = state;
  }, 60_000);
  poolLog.unref();
  activity?.start();
  const drainMs = Number(process.env.SKYWHISK_INVOKER_DRAIN_MS ?? DEFAULT_DRAIN_MS);
  onShutdown(async (reason) => {
    // An orphan (its supervisor died) has no endpoint to wait for much longer either.
    const bound = reason === 'orphaned' ? ORPHAN_DRAIN_MS : drainMs;
    log.info({ reason, drainMs: bound }, 'invoker stopping: finishing activations in flight');
    activity?.flush();
    await Promise.all([invoker.stop(bound), drainer.stop()]);
    activity?.stop();
    await dispatchServer?.close();
    statusServer.close();
    factory.dispose();
    log.info('invoker stopped');
  });
  announceReady({ socketPath: statusServer.socketPath });
}

/** Removes every container labelled by any invoker; reports how many there were, when any. */
async function removeSkywhiskContainers(docker: Docker, report: (removed: number) => void): Promise<void> {
  const leftovers = await docker.listContainers({ all: true, filters: { label: [INVOKER_LABEL] } });
  await Promise.all(leftovers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  if (leftovers.length) report(leftovers.length);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
