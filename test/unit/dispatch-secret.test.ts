import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { loadDispatchSecret } from '../../lib/controller/dispatch-secret';

// The controller Lambda's dispatch secret, read from Secrets Manager at a cold start; Secrets
// Manager (the AWS control plane) is played by a fake client.

function fakeClient(answer: () => Promise<{ SecretString?: string }>) {
  const asked: string[] = [];
  return {
    asked,
    client: {
      send: async (command: unknown) => {
        asked.push(String((command as GetSecretValueCommand).input.SecretId));
        return answer();
      },
    } as never,
  };
}

test('the secret named by its ARN is read once into the environment depsFromEnv reads', async () => {
  const env: NodeJS.ProcessEnv = { SKYWHISK_DISPATCH_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dispatch' };
  const { client, asked } = fakeClient(async () => ({ SecretString: 's3cret' }));
  expect(await loadDispatchSecret(env, client)).toBe(true);
  expect(env.SKYWHISK_DISPATCH_SECRET).toBe('s3cret');
  expect(await loadDispatchSecret(env, client)).toBe(true);
  expect(asked).toEqual(['arn:aws:secretsmanager:eu-west-1:123456789012:secret:dispatch']);
});

test('a stack without direct dispatch asks nothing', async () => {
  const { client, asked } = fakeClient(async () => ({ SecretString: 'x' }));
  expect(await loadDispatchSecret({}, client)).toBe(false);
  expect(asked).toEqual([]);
});

test('a secret that cannot be read leaves the controller on the queue path, with a warning, instead of failing every request', async () => {
  const env: NodeJS.ProcessEnv = { SKYWHISK_DISPATCH_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dispatch' };
  const warnings: string[] = [];
  const { client } = fakeClient(async () => Promise.reject(new Error('AccessDenied')));
  expect(await loadDispatchSecret(env, client, (m) => warnings.push(m))).toBe(false);
  expect(env.SKYWHISK_DISPATCH_SECRET).toBeUndefined();
  expect(warnings[0]).toMatch(/AccessDenied.*through the queue/);
});
