import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SubjectsRepository } from '../store/subjects';
import { createSubject, parseGuestSecret } from './subjects';

/** The parts of a CloudFormation custom resource event the bootstrap reads. */
export interface BootstrapEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  PhysicalResourceId?: string;
  ResourceProperties: { SecretArn: string; Namespace: string };
}

/**
 * The deployment's guest subject: on create and update, the key in the guest secret is installed
 * (hashed) in the subjects table for the guest namespace; on delete the subject is left in place
 * (the table is retained with the data). The physical id is the subject's uuid.
 */
export async function onBootstrapEvent(
  event: BootstrapEvent,
  secrets: SecretsManagerClient,
  subjects: SubjectsRepository,
): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? 'none' };
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: event.ResourceProperties.SecretArn }));
  const guest = parseGuestSecret(SecretString);
  await createSubject(subjects, event.ResourceProperties.Namespace, guest);
  return { PhysicalResourceId: guest.uuid };
}
