import type { Command } from 'commander';
import { createSubject } from '../admin/subjects';
import { createAwsClients } from '../aws-clients';
import { configFromEnv } from '../config';
import { SubjectsRepository } from '../store/subjects';

/**
 * `admin user create <namespace>`: OpenWhisk's `wskadmin user create`, writing straight to the
 * subjects table with the caller's own AWS credentials (the SDK's usual chain, `AWS_ENDPOINT_URL`
 * for LocalStack). The table is `--table`, else `SKYWHISK_SUBJECTS_TABLE`.
 */
export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administer a deployment with your AWS credentials');
  const user = admin.command('user').description('subjects and their keys');
  user
    .command('create <namespace>')
    .description('create a key for a namespace and print it as uuid:key')
    .option('--table <name>', 'the subjects table (the stack output SubjectsTable)')
    .option('--region <region>', 'AWS region')
    .action(async (namespace: string, flags: { table?: string; region?: string }) => {
      const table = flags.table ?? configFromEnv().tables.subjects;
      const { dynamo } = createAwsClients(flags.region ? { region: flags.region } : {});
      console.log(await createSubject(new SubjectsRepository(dynamo, table), namespace));
    });
}
