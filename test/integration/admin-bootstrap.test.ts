import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { onBootstrapEvent } from '../../lib/admin/guest-bootstrap';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { startProcess, stopProcess, type ManagedProcess } from '../../lib/local/processes';
import { SubjectsRepository } from '../../lib/store/subjects';
import { ensureTables } from '../../lib/store/tables';

// The admin paths of a deployment against the real embedded DynamoDB endpoint: the guest key
// installed from Secrets Manager by the bootstrap custom resource (Secrets Manager is mocked: no
// AWS control plane runs here), and `skywhisk admin user create` writing a subject.

const config = configFromEnv({});
const credentials = { accessKeyId: 'ADMINTEST', secretAccessKey: 'secret' };
let endpoint: ManagedProcess;
let endpointUrl: string;
let clients: AwsClients;
let subjects: SubjectsRepository;
const dataDir = mkdtempSync(join(tmpdir(), 'skywhisk-admin-'));

beforeAll(async () => {
  // The embedded endpoint runs as its own process, as in local mode, accepting only these credentials.
  endpoint = await startProcess(
    'endpoint',
    'local/endpoint-main.ts',
    { ...process.env, SKYWHISK_DATA_DIR: dataDir, SKYWHISK_ENDPOINT_PORT: '0', SKYWHISK_ENDPOINT_ACCESS_KEY_ID: credentials.accessKeyId },
    join(dataDir, 'logs'),
  );
  endpointUrl = `http://127.0.0.1:${endpoint.ready.port}`;
  clients = createAwsClients({ endpoint: endpointUrl, region: 'us-east-1', credentials });
  await ensureTables(clients.dynamo, config);
  subjects = new SubjectsRepository(clients.dynamo, config.tables.subjects);
});

afterAll(async () => {
  if (endpoint) await stopProcess(endpoint, 5000);
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
  );
  expect(created).toEqual({ PhysicalResourceId: GUEST.uuid });
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key)).toMatchObject({ namespace: 'guest', uuid: GUEST.uuid });
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key.replace('K', 'X'))).toBeUndefined();
  // Delete leaves the subject: the tables are retained with their data.
  await onBootstrapEvent({ RequestType: 'Delete', PhysicalResourceId: GUEST.uuid, ResourceProperties: { SecretArn: 'arn:guest', Namespace: 'guest' } }, new SecretsManagerClient({}), subjects);
  expect(await subjects.authenticate(GUEST.uuid, GUEST.key)).toBeDefined();
  secrets.restore();
});

test('a malformed secret fails the deployment step instead of installing a bad key', async () => {
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ uuid: 'not-a-uuid', key: 'short' }) });
  await expect(
    onBootstrapEvent({ RequestType: 'Update', ResourceProperties: { SecretArn: 'arn:x', Namespace: 'guest' } }, new SecretsManagerClient({}), subjects),
  ).rejects.toThrow(/guest secret is malformed/);
  secrets.restore();
});

test('`skywhisk admin user create` writes a subject with the caller’s AWS credentials and prints uuid:key', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [resolve(__dirname, '../../bin/skywhisk.js'), 'admin', 'user', 'create', 'alice', '--table', config.tables.subjects], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      AWS_ENDPOINT_URL: endpointUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  const match = /^([0-9a-f-]{36}):([A-Za-z0-9]{64})$/.exec(stdout.trim());
  expect(match).not.toBeNull();
  expect(await subjects.authenticate(match![1], match![2])).toMatchObject({ namespace: 'alice', subject: 'alice' });
});
