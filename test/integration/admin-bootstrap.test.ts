import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { onBootstrapEvent } from '../../lib/admin/guest-bootstrap';
import type { AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { EntitiesRepository } from '../../lib/store/entities';
import { SubjectsRepository } from '../../lib/store/subjects';
import { Bootstrap } from '../../infra/constructs/bootstrap';
import { Store } from '../../infra/constructs/store';
import { BundledHandler, removeBundles, synthesizeBundles } from '../helpers/bundled-function';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The admin paths of a deployment against the real embedded DynamoDB endpoint: the guest key
// installed from Secrets Manager by the bootstrap custom resource (Secrets Manager is mocked: no
// AWS control plane runs here), and `skywhisk admin user create` writing a subject.

const config = configFromEnv({});
const accessKeyId = 'ADMINTEST';
let endpoint: EmbeddedEndpoint;
let endpointUrl: string;
let clients: AwsClients;
let subjects: SubjectsRepository;
let entities: EntitiesRepository;
const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-admin-'));

beforeAll(async () => {
  // The embedded endpoint runs as its own process, as in local mode, accepting only these credentials.
  endpoint = await startEmbeddedEndpoint(accessKeyId);
  ({ url: endpointUrl, clients } = endpoint);
  subjects = new SubjectsRepository(clients.dynamo, config.tables.subjects);
  entities = new EntitiesRepository(clients.dynamo, config.tables.entities);
});

afterAll(async () => {
  removeBundles();
  await endpoint?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const GUEST = { uuid: '0f8e2a4c-1b3d-4e5f-8a9b-0c1d2e3f4a5b', key: 'K'.repeat(20) + 'abc123'.repeat(7) + 'Z'.repeat(2) };

test('the bootstrap custom resource installs the guest key from the secret, hashed', async () => {
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: 'arn:guest' }).resolves({ SecretString: JSON.stringify(GUEST) });
  const created = await onBootstrapEvent(
    { RequestType: 'Create', ResourceProperties: { SecretArn: 'arn:guest', Namespace: 'guest' } },
    new SecretsManagerClient({}),
    subjects,
    entities,
  );
  expect(created).toEqual({ PhysicalResourceId: GUEST.uuid });
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key)).toMatchObject({ namespace: 'guest', uuid: GUEST.uuid });
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key.replace('K', 'X'))).toBeUndefined();
  // The alarms feed is installed in whisk.system, as at every local start.
  expect(await entities.get('whisk.system', 'packages', 'alarms')).toMatchObject({ doc: { publish: true } });
  expect(await entities.get('whisk.system', 'actions', 'alarms/alarm')).toMatchObject({ doc: { exec: { kind: 'nodejs:22', code: expect.stringContaining('lifecycleEvent') } } });
  // Delete leaves the subject: the tables are retained with their data.
  await onBootstrapEvent({ RequestType: 'Delete', PhysicalResourceId: GUEST.uuid, ResourceProperties: { SecretArn: 'arn:guest', Namespace: 'guest' } }, new SecretsManagerClient({}), subjects, entities);
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key)).toBeDefined();
  secrets.restore();
});

test('a malformed secret fails the deployment step instead of installing a bad key', async () => {
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ uuid: 'not-a-uuid', key: 'short' }) });
  await expect(
    onBootstrapEvent({ RequestType: 'Update', ResourceProperties: { SecretArn: 'arn:x', Namespace: 'guest' } }, new SecretsManagerClient({}), subjects, entities),
  ).rejects.toThrow(/guest secret is malformed/);
  secrets.restore();
});

/** `skywhisk admin ...` with an operator's AWS credentials for the endpoint, on the subjects table. */
function adminCli(...args: string[]) {
  return promisify(execFile)(process.execPath, [resolve(__dirname, '../../bin/skywhisk.js'), 'admin', ...args, '--table', config.tables.subjects], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      AWS_ENDPOINT_URL: endpointUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
}

test('`skywhisk admin user create` writes a subject with the caller’s AWS credentials and prints uuid:key', async () => {
  const { stdout } = await adminCli('user', 'create', 'alice');
  const match = /^([0-9a-f-]{36}):([A-Za-z0-9]{64})$/.exec(stdout.trim());
  expect(match).not.toBeNull();
  expect(await subjects.authenticate(match![1], match![2])).toMatchObject({ namespace: 'alice', subject: 'alice' });
});

test('`skywhisk admin limits set` merges into a namespace’s throttle overrides; `user create --admin` makes an operator key; bad values change nothing', async () => {
  const [uuid, key] = (await adminCli('user', 'create', 'ops', '--admin')).stdout.trim().split(':');
  expect(await subjects.authenticate(uuid, key)).toMatchObject({ namespace: 'ops', admin: true });
  const printed = JSON.parse((await adminCli('limits', 'set', 'ops', '--invocationsPerMinute', '600', '--concurrentInvocations', '0')).stdout);
  expect(printed).toMatchObject({ invocationsPerMinute: 600, concurrentInvocations: 0, firesPerMinute: 60 });
  expect((await subjects.authenticate(uuid, key))?.limits).toEqual({ invocationsPerMinute: 600, concurrentInvocations: 0 });

  // A later call merges, as wskadmin does: the overrides it does not name are kept.
  const merged = JSON.parse((await adminCli('limits', 'set', 'ops', '--firesPerMinute', '5', '--concurrentInvocations', '7')).stdout);
  expect(merged).toMatchObject({ invocationsPerMinute: 600, concurrentInvocations: 7, firesPerMinute: 5 });
  const after = { invocationsPerMinute: 600, concurrentInvocations: 7, firesPerMinute: 5 };
  expect((await subjects.authenticate(uuid, key))?.limits).toEqual(after);

  // Refused, and nothing changes: a negative, empty or non-numeric value (Number('') would be 0,
  // blocking the namespace), no limit at all, an invalid namespace name, a namespace nobody owns.
  await expect(adminCli('limits', 'set', 'ops', '--firesPerMinute', '-1')).rejects.toMatchObject({ stderr: expect.stringMatching(/whole numbers/) });
  await expect(adminCli('limits', 'set', 'ops', '--invocationsPerMinute', '')).rejects.toMatchObject({
    stderr: expect.stringContaining("limits must be whole numbers of 0 or more: --invocationsPerMinute was ''"),
  });
  await expect(adminCli('limits', 'set', 'ops', '--firesPerMinute', 'lots')).rejects.toMatchObject({ stderr: expect.stringMatching(/whole numbers.*--firesPerMinute was 'lots'/) });
  await expect(adminCli('limits', 'set', 'ops', '--concurrentInvocations', '1.5')).rejects.toMatchObject({ stderr: expect.stringMatching(/whole numbers/) });
  await expect(adminCli('limits', 'set', 'ops')).rejects.toMatchObject({ stderr: expect.stringMatching(/no limit given: set at least one of --invocationsPerMinute/) });
  await expect(adminCli('limits', 'set', 'bad ns ', '--firesPerMinute', '5')).rejects.toMatchObject({ stderr: expect.stringMatching(/'bad ns ' is not a valid namespace name/) });
  await expect(adminCli('limits', 'set', 'nobody', '--firesPerMinute', '5')).rejects.toMatchObject({ stderr: expect.stringMatching(/no subject owns/) });
  expect((await subjects.authenticate(uuid, key))?.limits).toEqual(after);
});

test('the bundled bootstrap function (synth\'s esbuild output) installs a key and the alarms feed, whose code file it carries', async () => {
  // GIVEN the function as synth bundles it, and Secrets Manager as a stand-in endpoint
  const bundles = synthesizeBundles((stack) => {
    const store = new Store(stack, 'Store');
    new Bootstrap(stack, 'Bootstrap', { subjectsTable: store.subjects, entitiesTable: store.entities, apiHost: 'https://api.example.com/prod' });
  });
  const bundle = bundles.find((dir) => existsSync(join(dir, 'feed-action.js')));
  expect(bundle).toBeDefined();
  const secret = { uuid: '5a1e2b3c-4d5e-4f60-8a7b-8c9d0e1f2a3b', key: 'B'.repeat(64) };
  const secretsManager = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ ARN: 'arn:bundled', Name: 'guest', SecretString: JSON.stringify(secret) }));
    });
  });
  await new Promise<void>((listening) => secretsManager.listen(0, '127.0.0.1', listening));
  const handler = new BundledHandler(bundle!, {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: endpoint.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: endpoint.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SKYWHISK_SUBJECTS_TABLE: config.tables.subjects,
    SKYWHISK_ENTITIES_TABLE: config.tables.entities,
  });
  try {
    const installed = await entities.get('whisk.system', 'actions', 'alarms/once');
    if (installed) await entities.delete('whisk.system', 'actions', 'alarms/once', installed.revision);
    expect(await entities.get('whisk.system', 'actions', 'alarms/once')).toBeUndefined();
    // WHEN CloudFormation creates the custom resource
    const answer = await handler.invoke({ RequestType: 'Create', ResourceProperties: { SecretArn: 'arn:bundled', Namespace: 'team' } });
    // THEN the key works and the feed actions are back
    expect(answer).toEqual({ PhysicalResourceId: secret.uuid });
    expect(await subjects.authenticate(secret.uuid, secret.key)).toMatchObject({ namespace: 'team' });
    expect(await entities.get('whisk.system', 'actions', 'alarms/once')).toMatchObject({ doc: { exec: { code: expect.stringContaining('lifecycleEvent') } } });
  } finally {
    handler.stop();
    secretsManager.close();
  }
}, 60_000);
