import type { Command } from 'commander';
import { createSubject } from '../admin/subjects';
import { createAwsClients } from '../aws-clients';
import { configFromEnv } from '../config';
import { limitOverridesSchema, userLimits, type LimitOverrides } from '../model/limits';
import { isValidEntityName } from '../model/names';
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

  // `wskadmin limits set`: per-namespace overrides, seen by the controller at its next auth cache expiry (10 s).
  const limits = admin.command('limits').description("a namespace's throttles, action limits and kinds");
  limits
    .command('set <namespace>')
    .description('override limits of a namespace (a throttle of 0 blocks it), merged with its earlier overrides; others keep the system defaults')
    .option('--invocationsPerMinute <n>', 'invocations per minute')
    .option('--concurrentInvocations <n>', 'activations in flight')
    .option('--firesPerMinute <n>', 'trigger fires per minute')
    .option('--minActionMemory <MB>', 'least memory an action may set')
    .option('--maxActionMemory <MB>', 'most memory an action may set')
    .option('--minActionTimeout <ms>', 'shortest timeout an action may set')
    .option('--maxActionTimeout <ms>', 'longest timeout an action may set')
    .option('--minActionLogs <MB>', 'smallest log limit an action may set')
    .option('--maxActionLogs <MB>', 'largest log limit an action may set')
    .option('--minActionConcurrency <n>', 'least concurrency an action may set')
    .option('--maxActionConcurrency <n>', 'most concurrency an action may set')
    .option('--allowedKinds <kinds...>', 'the only kinds the namespace may create actions of (e.g. nodejs:22 blackbox)')
    .option('--table <name>', 'the subjects table (the stack output SubjectsTable)')
    .option('--region <region>', 'AWS region')
    .action(async (namespace: string, flags: AdminFlags & Record<string, string | undefined> & { allowedKinds?: string[] }) => {
      if (!isValidEntityName(namespace)) throw new Error(`'${namespace}' is not a valid namespace name.`);
      const given: LimitOverrides = flags.allowedKinds ? { allowedKinds: flags.allowedKinds } : {};
      for (const name of LIMIT_FLAGS) {
        const raw = flags[name];
        if (raw === undefined) continue;
        // Number('') is 0, which would block the namespace: only plain digits are a limit.
        const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
        if (!Number.isSafeInteger(value)) throw new Error(`limits must be whole numbers of 0 or more: --${name} was '${raw}'`);
        given[name] = value;
      }
      if (Object.keys(given).length === 0) throw new Error(`no limit given: set at least one of ${[...LIMIT_FLAGS, 'allowedKinds'].map((name) => `--${name}`).join(', ')}`);
      const checked = limitOverridesSchema.safeParse(given);
      if (!checked.success) throw new Error(checked.error.issues.map((issue) => `--${String(issue.path[0] ?? 'limits')}: ${issue.message}`).join('; '));
      const parsed = checked.data;
      const subjects = await subjectsFrom(flags).setLimits(namespace, parsed);
      if (subjects.length === 0) throw new Error(`no subject owns the namespace '${namespace}'`);
      // The namespace's throttles after the merge; per subject only if its subjects disagree.
      const effective = subjects.map((s) => ({ uuid: s.uuid, limits: userLimits(s.limits) }));
      const agree = effective.every((s) => JSON.stringify(s.limits) === JSON.stringify(effective[0].limits));
      console.log(JSON.stringify(agree ? effective[0].limits : Object.fromEntries(effective.map((s) => [s.uuid, s.limits])), null, 2));
    });
}

const LIMIT_FLAGS = [
  'invocationsPerMinute',
  'concurrentInvocations',
  'firesPerMinute',
  'minActionMemory',
  'maxActionMemory',
  'minActionTimeout',
  'maxActionTimeout',
  'minActionLogs',
  'maxActionLogs',
  'minActionConcurrency',
  'maxActionConcurrency',
] as const;

interface AdminFlags {
  table?: string;
  region?: string;
}

function subjectsFrom(flags: AdminFlags): SubjectsRepository {
  const table = flags.table ?? configFromEnv().tables.subjects;
  const { dynamo } = createAwsClients(flags.region ? { region: flags.region } : {});
  return new SubjectsRepository(dynamo, table);
}
