import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { configFromEnv } from '../../lib/config';
import { dockerTestsEnabled } from '../helpers/docker';
import { basicAuthHeader, heldSlots, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SideChannel } from '../helpers/side-channel';

// An invoker SIGKILLed with 100 activations accepted, some running long: the supervisor replaces
// it, and every accepted id ends in exactly one terminal record while no action body runs twice.

const ACTIVATIONS = 100;
let env: TestPlatform;
const channel = new SideChannel();
let factory: string;

beforeAll(async () => {
  await channel.start();
  // Real Docker containers where an engine answers (always on CI); sandboxed processes elsewhere.
  factory = dockerTestsEnabled() ? 'docker' : 'process';
  env = await startTestPlatform({
    SKYWHISK_CONTAINER_FACTORY: factory,
    // Messages held by the dead invoker come back within the test.
    SKYWHISK_QUEUE_VISIBILITY_S: '4',
    SKYWHISK_INVOKER_CONCURRENCY: '24',
    SKYWHISK_MEMORY_BUDGET_MB: '8192',
    SKYWHISK_STEM_CELLS: '',
    // A kill between storing a record and counting it off leaves one slot counted: the reconciler
    // puts it right within a few seconds here (two runs a second apart must agree).
    SKYWHISK_INVOKER_SWEEP_MS: '500',
    SKYWHISK_SLOT_RECONCILE_AFTER_MS: '1000',
  });
}, 600_000);

afterAll(async () => {
  await env?.stop();
  await channel.stop();
});

interface Record_ {
  activationId: string;
  response: { status: string; result: { error?: string; slept?: number } };
}

async function get(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/${path}`, { headers: { authorization: basicAuthHeader(env.platform.auth) } });
  return { status: response.status, body: await response.json() };
}

test(`SIGKILL of the invoker with ${ACTIVATIONS} activations accepted: one terminal record per id, no body run twice`, () =>
  withInvokerLog(env, async () => {
    const wsk = env.wsk();
    // Every fifth activation runs long; the rest take up to half a second.
    await wsk.actions.create({
      name: 'tracked',
      action: `async function main({ n }) {
        await fetch('http://127.0.0.1:${channel.port}/hit?id=' + process.env.__OW_ACTIVATION_ID);
        const slept = n % 5 === 0 ? 6000 : (n * 37) % 500;
        await new Promise((r) => setTimeout(r, slept));
        return { slept };
      }`,
    });
    const ids: string[] = [];
    for (let n = 0; n < ACTIVATIONS; n++) ids.push((await wsk.actions.invoke({ name: 'tracked', params: { n } })).activationId);
    expect(new Set(ids).size).toBe(ACTIVATIONS);

    // Kill it once a good number of bodies have started (long ones among them still running).
    for (let i = 0; i < 600 && channel.hits.size < 20; i++) await new Promise((r) => setTimeout(r, 50));
    expect(channel.hits.size).toBeGreaterThanOrEqual(20);
    const killed = env.platform.processes.invoker;
    killed.child.kill('SIGKILL');
    await killed.exited;
    await env.platform.supervisor.replacement('invoker');
    expect(env.platform.processes.invoker).not.toBe(killed);
    expect(env.platform.supervisor.restarts.invoker).toBe(1);

    const records = new Map<string, Record_>();
    for (let round = 0; round < 600 && records.size < ACTIVATIONS; round++) {
      for (const id of ids) {
        if (records.has(id)) continue;
        const { status, body } = await get(`activations/${id}`);
        if (status === 200) records.set(id, body as Record_);
      }
      if (records.size < ACTIVATIONS) await new Promise((r) => setTimeout(r, 250));
    }
    expect(records.size).toBe(ACTIVATIONS);
    // Long enough for a rerun to report itself, had there been one.
    await new Promise((r) => setTimeout(r, 2000));
    const ranTwice = ids.filter((id) => (channel.hits.get(id) ?? 0) > 1);
    expect(ranTwice).toEqual([]);

    // Exactly one record each: listing the action's activations gives each id once.
    const listed: Array<{ activationId: string }> = [];
    for (let skip = 0; ; skip += 200) {
      const page = (await get(`activations?name=tracked&limit=200&skip=${skip}`)).body as Array<{ activationId: string }>;
      listed.push(...page);
      if (page.length < 200) break;
    }
    expect(listed.map((r) => r.activationId).sort()).toEqual([...ids].sort());

    // What the dead invoker held ended as whisk errors, never rerun; the rest ran to success.
    const byStatus = (status: string) => [...records.values()].filter((r) => r.response.status === status);
    const interrupted = byStatus('whisk internal error');
    expect(interrupted.length).toBeGreaterThan(0);
    for (const record of interrupted) expect(record.response.result.error).toMatch(/stopped before it finished; it was not run again/);
    expect(byStatus('success').length + interrupted.length).toBe(ACTIVATIONS);
    // A success ran once; an interrupted one ran at most once (it may have been received and not started).
    for (const record of byStatus('success')) expect(channel.hits.get(record.activationId)).toBe(1);

    // Nothing is left behind in the queue or the dead-letter queue (a message that went there while
    // its activation ran is dropped by the drainer once the record exists), and every slot is back.
    const config = configFromEnv({});
    const depth = async (queue: string) => {
      const { QueueUrl } = await env.clients.sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
      const { Attributes } = await env.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      return Number(Attributes!.ApproximateNumberOfMessages) + Number(Attributes!.ApproximateNumberOfMessagesNotVisible);
    };
    let left = -1;
    for (let i = 0; i < 120 && left !== 0; i++) {
      left = (await depth(config.queues.invoke)) + (await depth(config.queues.invokeDeadLetter));
      if (left) await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toBe(0);
    for (let i = 0; i < 40 && (await heldSlots(env)) > 0; i++) await new Promise((r) => setTimeout(r, 250));
    expect(await heldSlots(env)).toBe(0);
  }), 600_000);
