import { execFileSync } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { configFromEnv } from '../../lib/config';
import { newActivationId } from '../../lib/model/activation-id';
import { InvokerRegistry } from '../../lib/store/invoker-registry';
import { dockerTestsEnabled } from '../helpers/docker';
import { basicAuthHeader, clientForNewNamespace, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SCAN_AND_FORGE_ACTION, SCAN_LOOPBACK } from './hostile-code';

// Attack: an action scans every TCP port of 127.0.0.1 (Docker actions share the host's network
// here; sandboxed processes share its loopback) and, on each open port, tries to read every
// tenant's subject and to plant an operator subject with a key it chose, signed with a made-up
// key. Before issue 12 the embedded DynamoDB answered on a second port with no check at all, and
// the invoker's status server and every runtime had ports of their own. Now nothing but the
// controller (the public API), the endpoint (which verifies signatures) and the invoker's direct
// dispatch port (which wants the dispatch secret) is there; the attack also posts another
// tenant's activation to every port, as a controller would.

type Attempt = { status?: number; body?: string; error?: string };
type ScanResult = { open: number[]; attempts: Record<string, { scan: Attempt; put: Attempt; dispatch: Attempt; dispatchGuessed: Attempt }> };

/** The same scan from the test process, before the platform starts: ports that are not ours. */
function baselinePorts(): Set<number> {
  const script = `${SCAN_LOOPBACK}\nscanLoopback(300, 200).then((open) => console.log(JSON.stringify(open)));`;
  return new Set(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 })) as number[]);
}

const FACTORIES = [
  { name: 'process', env: { SKYWHISK_CONTAINER_FACTORY: 'process' } },
  ...(dockerTestsEnabled() ? [{ name: 'docker', env: { SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_INVOKER_ID: `scan-test-${process.pid}` } }] : []),
];

describe.each(FACTORIES.map((f) => [f.name, f] as const))('%s actions', (_name, factory) => {
  let env: TestPlatform;
  let baseline: Set<number>;

  beforeAll(async () => {
    baseline = baselinePorts();
    env = await startTestPlatform(factory.env);
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('an action scanning 127.0.0.1 finds only the API, the endpoint and the dispatch port, and can forge neither an operator nor an activation on any port', () =>
    withInvokerLog(env, async () => {
      const victim = await clientForNewNamespace(env, 'victim-ns');
      await victim.wsk.actions.create({ name: 'secret-work', action: 'function main() { return { victimRan: true }; }' });
      const victimAction = (await victim.wsk.actions.get({ name: 'secret-work' })) as unknown as { version: string };
      const forgedActivationId = newActivationId();
      const dispatch = {
        activationId: forgedActivationId,
        transactionId: 'forged',
        namespace: 'victim-ns',
        subject: 'victim-ns',
        action: { namespace: 'victim-ns', path: 'secret-work', revision: victimAction.version },
        params: {},
        blocking: true,
        acceptedAt: Date.now(),
      };
      const { wsk } = await clientForNewNamespace(env, 'attacker-ns');
      await wsk.actions.create({ name: 'scan', action: SCAN_AND_FORGE_ACTION, limits: { timeout: 180_000 } } as never);
      const forged = { uuid: randomUUID(), key: 'k'.repeat(64) };
      const subjectsTable = configFromEnv({}).tables.subjects;
      const result = (await wsk.actions.invoke({
        name: 'scan',
        blocking: true,
        result: true,
        params: { subjectsTable, forgedUuid: forged.uuid, forgedKeyHash: createHash('sha256').update(forged.key).digest('hex'), dispatch },
      })) as ScanResult;

      const controllerPort = Number(new URL(env.platform.apiHost).port);
      const endpointPort = Number(new URL(env.platform.endpointUrl).port);
      const [invoker] = (await new InvokerRegistry(env.clients.dynamo, configFromEnv({}).tables.coordination, 10_000).list());
      const dispatchPort = Number(new URL(invoker.dispatchUrl!).port);
      const ours = [controllerPort, endpointPort, dispatchPort];
      // The scan works: it finds the three ports an action may reach...
      expect(result.open).toEqual(expect.arrayContaining(ours));
      // ...and nothing else the platform opened: no store without a check, no status, no runtime port.
      expect(result.open.filter((port) => !baseline.has(port)).sort()).toEqual([...ours].sort());

      // No port of ours answered the forged calls with data.
      for (const port of ours) {
        const { scan, put, dispatch: posted, dispatchGuessed } = result.attempts[String(port)];
        for (const attempt of [scan, put, posted, dispatchGuessed]) expect(attempt.status).not.toBe(200);
      }
      expect(result.attempts[String(endpointPort)].scan).toMatchObject({ status: 403, body: expect.stringContaining('UnrecognizedClientException') });
      expect(result.attempts[String(dispatchPort)].dispatch.status).toBe(401);
      expect(result.attempts[String(dispatchPort)].dispatchGuessed.status).toBe(401);
      // The victim's action never ran for the forged activation.
      const forgedRecord = await env.clients.dynamo.send(new GetCommand({ TableName: configFromEnv({}).tables.activations, Key: { namespace: 'victim-ns', activationId: forgedActivationId } }));
      expect(forgedRecord.Item).toBeUndefined();

      // The operator it tried to plant does not exist, and its key opens nothing.
      const { Item } = await env.clients.dynamo.send(new GetCommand({ TableName: subjectsTable, Key: { uuid: forged.uuid } }));
      expect(Item).toBeUndefined();
      const invokers = await fetch(`${env.platform.apiHost}/invokers`, { headers: { authorization: basicAuthHeader(`${forged.uuid}:${forged.key}`) } });
      expect(invokers.status).toBe(401);
    }),
  );
});
