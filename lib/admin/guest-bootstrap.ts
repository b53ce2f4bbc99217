import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { alarmsPackage } from '../alarms/package';
import { installSystemPackage } from '../catalog/system-packages';
import { standardCatalog } from '../catalog/standard';
import type { EntitiesRepository } from '../store/entities';
import type { SubjectsRepository } from '../store/subjects';
import { createSubject, parseGuestSecret } from './subjects';

/** The parts of a CloudFormation custom resource event the bootstrap reads. */
export interface BootstrapEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  PhysicalResourceId?: string;
  ResourceProperties: { SecretArn: string; Namespace: string };
}

/**
 * What a deployment starts with: on create and update, the key in the guest secret is installed
 * (hashed) in the subjects table for the guest namespace, and the system packages (the alarms feed)
 * are installed or brought up to date, as the local platform does at every start. On delete both
 * are left in place (the tables are retained with the data). The physical id is the subject's uuid.
 */
export async function onBootstrapEvent(
  event: BootstrapEvent,
  secrets: SecretsManagerClient,
  subjects: SubjectsRepository,
  entities: EntitiesRepository,
): Promise<{ PhysicalResourceId: string }> {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? 'none' };
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: event.ResourceProperties.SecretArn }));
  const guest = parseGuestSecret(SecretString);
  await createSubject(subjects, event.ResourceProperties.Namespace, guest);
  for (const pkg of [alarmsPackage(), ...standardCatalog()]) await installSystemPackage(entities, pkg);
  return { PhysicalResourceId: guest.uuid };
}
