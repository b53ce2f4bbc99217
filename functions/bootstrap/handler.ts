import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { onBootstrapEvent, type BootstrapEvent } from '../../lib/admin/guest-bootstrap';
import { awsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { SubjectsRepository } from '../../lib/store/subjects';

const secrets = new SecretsManagerClient({});
const subjects = new SubjectsRepository(awsClients().dynamo, configFromEnv().tables.subjects);

/** CloudFormation custom resource (through the custom-resources Provider): installs the guest key. */
export const handler = (event: BootstrapEvent) => onBootstrapEvent(event, secrets, subjects);
