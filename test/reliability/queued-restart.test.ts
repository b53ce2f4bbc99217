import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { configFromEnv } from '../../lib/config';
import { basicAuthHeader, heldSlots, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// The embedded endpoint kept up, controller and invoker restarted with 1,000 non-blocking
// activations queued: all 1,000 complete, each once, and nothing is left on the bus.

jest.setTimeout(300_000);

const ACTIVATIONS = 1000;
let env: TestPlatform;
const channel = new SideChannel();

beforeAll(async () => {
  await channel.start();
  env = await startTestPlatform();
});

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${env.platform.apiHost}/api/v1/namespaces/_${path}`, {
    ...init,
    headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
  });
}

/** Runs `task` over `items`, `width` at a time. */
async function eachLimited<T>(items: T[], width: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]);
    }),
  );
}

async function queueDepth(name: string): Promise<{ visible: number; inFlight: number }> {
  const { QueueUrl } = await env.clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  const { Attributes } = await env.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

async function recordCount(): Promise<number> {
  const response = await api('/activations?count=true');
  expect(response.status).toBe(200);
  return ((await response.json()) as { activations: number }).activations;
}

/** Every record the namespace lists, through the list API. */
async function listedRecords(): Promise<Array<{ activationId: string; statusCode: number }>> {
  const all: Array<{ activationId: string; statusCode: number }> = [];
  for (let skip = 0; ; skip += 200) {
    const response = await api(`/activations?limit=200&skip=${skip}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as Array<{ activationId: string; statusCode: number }>;
    all.push(...page);
    if (page.length < 200) return all;
  }
}

test('1,000 non-blocking activations queued across a controller and invoker restart all complete, each exactly once', async () => {
  const created = await api('/actions/counted', { method: 'PUT', body: JSON.stringify({ exec: { kind: 'nodejs:default', code: channel.actionCode() } }) });
  expect(created.status).toBe(200);

  // The invoker is stopped on purpose (the supervisor does not replace it): the invokes queue up.
  await env.platform.supervisor.stopOne('invoker', 330_000);

  const ids: string[] = [];
  const statuses = new Map<number, number>();
  await eachLimited(
    Array.from({ length: ACTIVATIONS }, (_, i) => i),
    32,
    async () => {
      const response = await api('/actions/counted', { method: 'POST', body: '{}' });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const body = (await response.json()) as { activationId?: string };
      if (body.activationId) ids.push(body.activationId);
    },
  );
  expect(Object.fromEntries(statuses)).toEqual({ 202: ACTIVATIONS });
  expect(new Set(ids).size).toBe(ACTIVATIONS);
  const queues = configFromEnv({}).queues;
  expect((await queueDepth(queues.invoke)).visible).toBe(ACTIVATIONS);
  expect(channel.hits.size).toBe(0);

  // The endpoint (tables and queues) stays up; the controller is replaced while the work waits.
  const endpointPid = env.platform.processes.endpoint?.child.pid;
  const controllerPid = env.platform.processes.controller.child.pid;
  await env.platform.restart('controller');
  expect(env.platform.processes.controller.child.pid).not.toBe(controllerPid);
  expect(env.platform.processes.endpoint?.child.pid).toBe(endpointPid);
  expect(env.platform.processes.endpoint?.child.exitCode).toBeNull();

  // The restart of a stopped invoker starts it again.
  await env.platform.restart('invoker');

  for (let i = 0; i < 1200 && (await recordCount()) < ACTIVATIONS; i++) await new Promise((r) => setTimeout(r, 100));
  // Each id answers with its own successful record.
  const results = new Map<string, unknown>();
  await eachLimited(ids, 16, async (id) => {
    const response = await api(`/activations/${id}`);
    expect(response.status).toBe(200);
    const record = (await response.json()) as { activationId: string; response: { success: boolean; result: unknown } };
    expect(record.activationId).toBe(id);
    expect(record.response.success).toBe(true);
    results.set(id, record.response.result);
  });
  expect(new Set([...results.values()].map((r) => JSON.stringify(r)))).toEqual(new Set([JSON.stringify({ ran: true })]));

  // Exactly one record per id: the namespace lists the 1,000 ids, none twice, nothing else.
  const listed = await listedRecords();
  expect(listed.map((r) => r.activationId).sort()).toEqual([...ids].sort());
  expect(await recordCount()).toBe(ACTIVATIONS);

  // The action body ran once for each id, and for no other.
  expect([...channel.hits.keys()].sort()).toEqual([...ids].sort());
  expect([...channel.hits.values()].filter((n) => n !== 1)).toEqual([]);

  // Nothing left on the bus: the invocation queue and its dead-letter queue are empty.
  let depths = { invoke: await queueDepth(queues.invoke), deadLetter: await queueDepth(queues.invokeDeadLetter) };
  for (let i = 0; i < 100 && depths.invoke.visible + depths.invoke.inFlight + depths.deadLetter.visible + depths.deadLetter.inFlight > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    depths = { invoke: await queueDepth(queues.invoke), deadLetter: await queueDepth(queues.invokeDeadLetter) };
  }
  expect(depths).toEqual({ invoke: { visible: 0, inFlight: 0 }, deadLetter: { visible: 0, inFlight: 0 } });
  // And every throttle slot taken at enqueue is back.
  expect(await heldSlots(env)).toBe(0);
});
