import type { Command } from 'commander';
import { createSubject } from '../admin/subjects';
import { createAwsClients } from '../aws-clients';
import { configFromEnv } from '../config';
import { limitOverridesSchema, userLimits } from '../model/limits';
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
    .option('--admin', 'an operator key: may also read GET /invokers')
    .action(async (namespace: string, flags: AdminFlags & { admin?: boolean }) => {
      console.log(await createSubject(subjectsFrom(flags), namespace, undefined, flags.admin === true));
    });

  // `wskadmin limits set`: per-namespace throttle overrides, checked at the next auth cache expiry (10 s).
  const limits = admin.command('limits').description("a namespace's throttles");
  limits
    .command('set <namespace>')
    .description('override throttles of a namespace (0 blocks it); unset ones keep the system defaults')
    .option('--invocationsPerMinute <n>', 'invocations per minute')
    .option('--concurrentInvocations <n>', 'activations in flight')
    .option('--firesPerMinute <n>', 'trigger fires per minute')
    .option('--table <name>', 'the subjects table (the stack output SubjectsTable)')
    .option('--region <region>', 'AWS region')
    .action(async (namespace: string, flags: AdminFlags & Record<string, string | undefined>) => {
      const given = Object.fromEntries(
        (['invocationsPerMinute', 'concurrentInvocations', 'firesPerMinute'] as const).filter((name) => flags[name] !== undefined).map((name) => [name, Number(flags[name])]),
      );
      const parsed = limitOverridesSchema.safeParse(given);
      if (!parsed.success) throw new Error(`limits must be whole numbers of 0 or more: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
      const updated = await subjectsFrom(flags).setLimits(namespace, parsed.data);
      if (updated === 0) throw new Error(`no subject owns the namespace '${namespace}'`);
      console.log(JSON.stringify(userLimits(parsed.data), null, 2));
    });
}

interface AdminFlags {
  table?: string;
  region?: string;
}

function subjectsFrom(flags: AdminFlags): SubjectsRepository {
  const table = flags.table ?? configFromEnv().tables.subjects;
  const { dynamo } = createAwsClients(flags.region ? { region: flags.region } : {});
  return new SubjectsRepository(dynamo, table);
}
