import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * On AWS the dispatch secret lives in Secrets Manager (`SKYWHISK_DISPATCH_SECRET_ARN`): a cold start
 * reads it once into `SKYWHISK_DISPATCH_SECRET`, where depsFromEnv finds it (locally the platform
 * sets that itself). Returns whether the controller has a secret, so dispatches directly; one that
 * cannot read it serves through the queue, which needs none.
 */
export async function loadDispatchSecret(
  env: NodeJS.ProcessEnv,
  // Bounded, so that a secret that cannot be reached falls back well within API Gateway's 29 s.
  client: Pick<SecretsManagerClient, 'send'> = new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 2000, requestTimeout: 3000 } }),
  warn: (message: string) => void = console.warn,
): Promise<boolean> {
  const arn = env.SKYWHISK_DISPATCH_SECRET_ARN;
  if (env.SKYWHISK_DISPATCH_SECRET || !arn) return Boolean(env.SKYWHISK_DISPATCH_SECRET);
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!SecretString) throw new Error('it has no string value');
    env.SKYWHISK_DISPATCH_SECRET = SecretString;
    return true;
  } catch (error) {
    warn(`Could not read the dispatch secret ${arn} (${error instanceof Error ? error.message : String(error)}): blocking invokes go through the queue.`);
    return false;
  }
}
