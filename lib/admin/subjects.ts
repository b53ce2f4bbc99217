import { z } from 'zod';
import { isValidEntityName } from '../model/names';
import { generateCredentials, type SubjectsRepository } from '../store/subjects';

/** The guest credentials as the deployment keeps them in Secrets Manager. */
export const guestSecretSchema = z.object({
  uuid: z.string().uuid(),
  key: z.string().regex(/^[A-Za-z0-9]{32,128}$/, 'the key must be 32 to 128 letters and digits'),
});

export type GuestSecret = z.infer<typeof guestSecretSchema>;

/**
 * Creates a subject owning `namespace` and returns its `uuid:key` (OpenWhisk's `wskadmin user
 * create`). Given credentials are used as they are (so a known key can be installed); otherwise
 * fresh ones are generated. Only the key's hash is stored.
 */
export async function createSubject(subjects: SubjectsRepository, namespace: string, credentials?: { uuid: string; key: string }, admin = false): Promise<string> {
  if (!isValidEntityName(namespace)) throw new Error(`'${namespace}' is not a valid namespace name.`);
  const { uuid, key } = credentials ?? generateCredentials();
  await subjects.put({ uuid, key, subject: namespace, namespace, admin });
  return `${uuid}:${key}`;
}

/** Parses the guest secret's JSON; a clear error when it is not the expected shape. */
export function parseGuestSecret(secretString: string | undefined): GuestSecret {
  let json: unknown;
  try {
    json = JSON.parse(secretString ?? '');
  } catch {
    throw new Error('The guest secret is not JSON.');
  }
  const parsed = guestSecretSchema.safeParse(json);
  if (!parsed.success) throw new Error(`The guest secret is malformed: ${parsed.error.issues[0].message}`);
  return parsed.data;
}
