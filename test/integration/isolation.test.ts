import { ACTION_UID_RANGE } from '../../lib/invoker/action-users';
import { bubblewrapWorks } from '../../lib/invoker/process-factory';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// What action code can see of the platform: no credentials in its environment, no platform
// files, and an AWS endpoint that refuses it.

let env: TestPlatform;

beforeAll(async () => {
  env = await startTestPlatform();
});

afterAll(async () => {
  await env?.stop();
});

test('an action gets no platform credentials or settings in its environment', async () => {
  const wsk = env.wsk();
  await wsk.actions.create({ name: 'env', action: 'function main() { return { keys: Object.keys(process.env) }; }' });
  const { keys } = (await wsk.actions.invoke({ name: 'env', blocking: true, result: true })) as { keys: string[] };
  expect(keys.filter((k) => /^(AWS_|SKYWHISK_)/.test(k))).toEqual([]);
  expect(keys).toEqual(expect.arrayContaining(['__OW_ACTIVATION_ID', '__OW_API_HOST']));
});

test('the embedded endpoint refuses an action that guesses credentials', async () => {
  const wsk = env.wsk();
  await wsk.actions.create({
    name: 'intruder',
    action: `async function main({ endpoint }) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.Scan',
          authorization: 'AWS4-HMAC-SHA256 Credential=skywhisk/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
        },
        body: JSON.stringify({ TableName: 'skywhisk-subjects' }),
      });
      return { status: response.status, body: await response.text() };
    }`,
  });
  const result = (await wsk.actions.invoke({ name: 'intruder', blocking: true, result: true, params: { endpoint: env.platform.endpointUrl } })) as {
    status: number;
    body: string;
  };
  expect(result.status).toBe(403);
  expect(result.body).not.toContain('keyHash');
});

test('an action runs as an unprivileged user with a writable /tmp', async () => {
  const wsk = env.wsk();
  await wsk.actions.create({
    name: 'whoami',
    action: `function main() {
      const fs = require('fs'); const file = require('os').tmpdir() + '/scratch';
      fs.writeFileSync(file, 'kept'); return { uid: process.getuid(), scratch: fs.readFileSync(file, 'utf8') };
    }`,
  });
  const result = (await wsk.actions.invoke({ name: 'whoami', blocking: true, result: true })) as { uid: number; scratch: string };
  expect(result.scratch).toBe('kept');
  // As root, each container runs as a user of its own from the reserved range.
  if (process.getuid?.() === 0) {
    expect(result.uid).toBeGreaterThanOrEqual(ACTION_UID_RANGE.first);
    expect(result.uid).toBeLessThan(ACTION_UID_RANGE.first + ACTION_UID_RANGE.size);
  }
});

(bubblewrapWorks() ? test : test.skip)('a sandboxed action cannot read the platform data directory', async () => {
  const wsk = env.wsk();
  await wsk.actions.create({
    name: 'snoop',
    action: `function main({ dir }) {
      try { return { listed: require('fs').readdirSync(dir) }; } catch (error) { return { refused: error.code }; }
    }`,
  });
  const result = await wsk.actions.invoke({ name: 'snoop', blocking: true, result: true, params: { dir: env.dataDir } });
  expect(result).toEqual({ refused: 'ENOENT' });
});

describe('without bubblewrap', () => {
  let bare: TestPlatform;

  beforeAll(async () => {
    bare = await startTestPlatform({ SKYWHISK_SANDBOX: 'none' });
  });

  afterAll(async () => {
    await bare?.stop();
  });

  (process.getuid?.() === 0 ? test : test.skip)('an action cannot read the invoker environment, which holds the endpoint credentials', async () => {
    const wsk = bare.wsk();
    await wsk.actions.create({
      name: 'peek',
      action: `function main({ pid }) {
        try { return { environ: require('fs').readFileSync('/proc/' + pid + '/environ', 'utf8') }; }
        catch (error) { return { refused: error.code }; }
      }`,
    });
    const pid = bare.platform.processes.invoker.child.pid;
    const result = (await wsk.actions.invoke({ name: 'peek', blocking: true, result: true, params: { pid } })) as { refused?: string };
    // Another user's process (EACCES), or not even there in the action's own pid namespace (ENOENT).
    expect(['EACCES', 'ENOENT']).toContain(result.refused);
  });
});
