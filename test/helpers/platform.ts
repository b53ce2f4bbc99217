import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import openwhisk from 'openwhisk';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { OPENWHISK_GUEST_AUTH, startPlatform, type RunningPlatform } from '../../lib/local/platform';
import type { LimitOverrides } from '../../lib/model/limits';
import { generateCredentials, SubjectsRepository } from '../../lib/store/subjects';
import { ThrottleCounters } from '../../lib/store/throttle-counters';

export interface TestPlatform {
  platform: RunningPlatform;
  dataDir: string;
  clients: AwsClients;
  /** An `openwhisk` npm client configured only with the platform's apihost and auth. */
  wsk(): ReturnType<typeof openwhisk>;
  /** Stops the platform (data kept) and starts it again on the same data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

// Suites run action containers as processes unless they ask for docker (test/docker).
const QUIET_ENV = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', SKYWHISK_POLL_WAIT_S: '1', SKYWHISK_CONTAINER_FACTORY: 'process' };

/** Suites lift the throttles, as OpenWhisk's own test suites do; the throttle suite sets its own. */
export const LIFTED_LIMITS: LimitOverrides = { invocationsPerMinute: 1_000_000, concurrentInvocations: 1_000_000, firesPerMinute: 1_000_000 };

export async function startTestPlatform(env: NodeJS.ProcessEnv = {}, dataDir?: string, guestLimits: LimitOverrides = LIFTED_LIMITS): Promise<TestPlatform> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'skywhisk-test-'));
  const options = {
    guestLimits,
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    guestAuth: OPENWHISK_GUEST_AUTH,
    guestNamespace: 'guest',
    env: { ...QUIET_ENV, AWS_ENDPOINT_URL: undefined, ...env },
  };
  const state = { platform: await startPlatform(options) };
  const clientsFor = (p: RunningPlatform) => createAwsClients({ endpoint: p.endpointUrl, region: 'us-east-1', credentials: p.endpointCredentials });
  const test: TestPlatform = {
    platform: state.platform,
    dataDir: dir,
    clients: clientsFor(state.platform),
    wsk: () => openwhisk({ apihost: test.platform.apiHost, api_key: test.platform.auth }),
    async restart() {
      await test.platform.stop();
      test.platform = await startPlatform({ ...options, port: Number(new URL(test.platform.apiHost).port) });
      test.clients = clientsFor(test.platform);
    },
    async stop() {
      await test.platform.stop();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return test;
}

/** Every item of every table (but invoker heartbeats), and the depth of every queue: what "nothing changed" compares. */
export async function dumpStore(clients: AwsClients): Promise<Record<string, unknown>> {
  const config = configFromEnv({});
  const dump: Record<string, unknown> = {};
  // Admission shares end by themselves within a second or so: the dump is of a store at rest.
  const counters = new ThrottleCounters(clients.dynamo, config.tables.coordination);
  const holdsShares = async () => {
    for await (const count of counters.inFlightCounts()) if (count.shares.length) return true;
    return false;
  };
  for (let i = 0; i < 40 && (await holdsShares()); i++) await new Promise((r) => setTimeout(r, 250));
  for (const table of Object.values(config.tables)) {
    const { Items } = await clients.dynamo.send(new ScanCommand({ TableName: table }));
    // Invoker heartbeats change by themselves; throttle counts are kept (a refused request must not count).
    dump[table] = (Items ?? []).filter((item) => item.pk !== 'invokers').map((item) => JSON.stringify(item)).sort();
  }
  for (const queue of Object.values(config.queues)) {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
    const { Attributes } = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    dump[queue] = Attributes;
  }
  return dump;
}

export function basicAuthHeader(auth: string): string {
  return `Basic ${Buffer.from(auth).toString('base64')}`;
}

/** The last lines of one platform process's log. */
export function logTail(test: TestPlatform, name: 'controller' | 'invoker' | 'endpoint', lines = 40): string {
  const file = join(test.dataDir, 'logs', `${name}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

/** Runs a test body; a failure carries the invoker's recent log, for failures seen only on CI. */
export async function withInvokerLog(test: TestPlatform, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- invoker log ---\n${logTail(test, 'invoker')}`;
    throw error;
  }
}

/** Adds a subject owning `namespace` and returns an `openwhisk` client authenticated as it. */
export async function clientForNewNamespace(
  test: TestPlatform,
  namespace: string,
  limits: LimitOverrides = LIFTED_LIMITS,
): Promise<{ auth: string; wsk: ReturnType<typeof openwhisk> }> {
  const { uuid, key } = generateCredentials();
  const config = configFromEnv({});
  await new SubjectsRepository(test.clients.dynamo, config.tables.subjects).put({ uuid, key, subject: namespace, namespace, limits });
  const auth = `${uuid}:${key}`;
  return { auth, wsk: openwhisk({ apihost: test.platform.apiHost, api_key: auth }) };
}

/** The activation ids of the live throttle slots a namespace holds. */
export async function heldSlotIds(test: TestPlatform, namespace = 'guest'): Promise<string[]> {
  const { Items } = await test.clients.dynamo.send(
    new QueryCommand({
      TableName: configFromEnv({}).tables.coordination,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'deadline > :now',
      ExpressionAttributeValues: { ':pk': `slots#${namespace}`, ':now': Date.now() },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((item) => String(item.sk));
}

/**
 * Throttle slots a namespace holds: activations accepted and not yet given back (0 once all are
 * recorded). The larger of its live leases and its in-flight count, so that either one leaking shows.
 * Read once the namespace's admission shares have ended (within a few seconds): until then its
 * count includes admissions a controller reserved and did not hand out.
 */
export async function heldSlots(test: TestPlatform, namespace = 'guest'): Promise<number> {
  const counters = new ThrottleCounters(test.clients.dynamo, configFromEnv({}).tables.coordination);
  const sharesOf = async () => {
    for await (const count of counters.inFlightCounts()) if (count.namespace === namespace) return count.shares.length;
    return 0;
  };
  for (let i = 0; i < 40 && (await sharesOf()) > 0; i++) await new Promise((r) => setTimeout(r, 250));
  const [leases, inFlight] = await Promise.all([counters.slots(namespace), counters.inFlight(namespace)]);
  return Math.max(leases, inFlight);
}
