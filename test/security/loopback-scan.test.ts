import { execFileSync } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { configFromEnv } from '../../lib/config';
import { dockerTestsEnabled } from '../helpers/docker';
import { basicAuthHeader, clientForNewNamespace, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';
import { SCAN_AND_FORGE_ACTION, SCAN_LOOPBACK } from './hostile-code';

// Attack: an action scans every TCP port of 127.0.0.1 (Docker actions share the host's network
// here; sandboxed processes share its loopback) and, on each open port, tries to read every
// tenant's subject and to plant an operator subject with a key it chose, signed with a made-up
// key. Before issue 12 the embedded DynamoDB answered on a second port with no check at all, and
// the invoker's status server and every runtime had ports of their own. Now nothing but the
// controller (the public API) and the endpoint (which verifies signatures) is there.

type Attempt = { status?: number; body?: string; error?: string };
type ScanResult = { open: number[]; attempts: Record<string, { scan: Attempt; put: Attempt }> };

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

  test('an action scanning 127.0.0.1 finds only the API and the endpoint, and cannot forge an operator on any port', () =>
    withInvokerLog(env, async () => {
      const { wsk } = await clientForNewNamespace(env, 'attacker-ns');
      await wsk.actions.create({ name: 'scan', action: SCAN_AND_FORGE_ACTION, limits: { timeout: 180_000 } } as never);
      const forged = { uuid: randomUUID(), key: 'k'.repeat(64) };
      const subjectsTable = configFromEnv({}).tables.subjects;
      const result = (await wsk.actions.invoke({
        name: 'scan',
        blocking: true,
        result: true,
        params: { subjectsTable, forgedUuid: forged.uuid, forgedKeyHash: createHash('sha256').update(forged.key).digest('hex') },
      })) as ScanResult;

      const controllerPort = Number(new URL(env.platform.apiHost).port);
      const endpointPort = Number(new URL(env.platform.endpointUrl).port);
      // The scan works: it finds the two ports an action may reach...
      expect(result.open).toEqual(expect.arrayContaining([controllerPort, endpointPort]));
      // ...and nothing else the platform opened: no store without a check, no status, no runtime port.
      expect(result.open.filter((port) => !baseline.has(port)).sort()).toEqual([controllerPort, endpointPort].sort());

      // No port of ours answered the forged calls with data.
      for (const port of [controllerPort, endpointPort]) {
        const { scan, put } = result.attempts[String(port)];
        expect(scan.status).not.toBe(200);
        expect(put.status).not.toBe(200);
      }
      expect(result.attempts[String(endpointPort)].scan).toMatchObject({ status: 403, body: expect.stringContaining('UnrecognizedClientException') });

      // The operator it tried to plant does not exist, and its key opens nothing.
      const { Item } = await env.clients.dynamo.send(new GetCommand({ TableName: subjectsTable, Key: { uuid: forged.uuid } }));
      expect(Item).toBeUndefined();
      const invokers = await fetch(`${env.platform.apiHost}/invokers`, { headers: { authorization: basicAuthHeader(`${forged.uuid}:${forged.key}`) } });
      expect(invokers.status).toBe(401);
    }),
  );
});
