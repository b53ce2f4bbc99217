import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { onBootstrapEvent, type BootstrapEvent } from '../../lib/admin/guest-bootstrap';
import { awsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { EntitiesRepository } from '../../lib/store/entities';
import { SubjectsRepository } from '../../lib/store/subjects';

const secrets = new SecretsManagerClient({});
const { tables } = configFromEnv();
const subjects = new SubjectsRepository(awsClients().dynamo, tables.subjects);
const entities = new EntitiesRepository(awsClients().dynamo, tables.entities);

/** CloudFormation custom resource (through the custom-resources Provider): installs the guest key and system packages. */
export const handler = (event: BootstrapEvent) => onBootstrapEvent(event, secrets, subjects, entities);
