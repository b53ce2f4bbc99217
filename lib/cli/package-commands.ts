import type { Command } from 'commander';
import type { Context, KeyValue } from './context';
import { fetchList, printList, withListOptions, type ListFlags } from './listing';
import { printJson, report } from './output';
import { deletedAnnotations, mergedParams, toKeyValueList } from './params';
import { summaryLines } from './summary';

interface Package {
  namespace: string;
  name: string;
  annotations?: KeyValue[];
  parameters?: KeyValue[];
  actions?: Array<{ name: string; annotations?: KeyValue[]; parameters?: KeyValue[] }>;
  feeds?: Array<{ name: string; annotations?: KeyValue[]; parameters?: KeyValue[] }>;
}

/** wsk's `--shared yes|no` (true/false also read). */
function publish(shared: string): boolean {
  const value = shared.toLowerCase();
  if (value === 'yes' || value === 'true') return true;
  if (value === 'no' || value === 'false') return false;
  throw new Error(`Invalid argument '${shared}' for --shared; give 'yes' or 'no'.`);
}

function packageBody(ctx: Context, flags: { paramFile?: string; shared?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const params = mergedParams(flags.paramFile, ctx.pairs);
  if (Object.keys(params).length) body.parameters = toKeyValueList(params);
  if (Object.keys(ctx.pairs.annotations).length) body.annotations = toKeyValueList(ctx.pairs.annotations);
  Object.assign(body, deletedAnnotations(ctx.pairs));
  if (flags.shared !== undefined) body.publish = publish(flags.shared);
  return body;
}

/** `/ns/pkg` or `pkg` as the binding's `{namespace, name}`. */
async function bindingTarget(ctx: Context, pkg: string): Promise<{ namespace: string; name: string }> {
  const parts = (await ctx.api().fullyQualified(pkg)).slice(1).split('/');
  if (parts.length !== 2 || parts.some((p) => !p)) throw new Error(`'${pkg}' is not a package name: give 'pkg' or '/namespace/pkg'.`);
  return { namespace: parts[0], name: parts[1] };
}

/** The package, then each of its actions and feeds, as `wsk package get --summary` prints them. */
function printSummary(pkg: Package): void {
  const lines = summaryLines('package', pkg);
  const inside = `${pkg.namespace}/${pkg.name}`;
  for (const action of pkg.actions ?? []) lines.push(...summaryLines(' action', { ...action, namespace: inside }));
  for (const feed of pkg.feeds ?? []) lines.push(...summaryLines(' feed  ', { ...feed, namespace: inside }));
  console.log(lines.join('\n'));
}

export function registerPackageCommands(program: Command, ctx: Context): void {
  const pkg = program.command('package').description('work with packages');

  for (const verb of ['create', 'update'] as const) {
    pkg
      .command(`${verb} <name>`)
      .description(`${verb} a package`)
      .option('--shared <yes|no>', 'share (publish) the package with other namespaces')
      .option('-P, --param-file <file>', 'parameters from a JSON file')
      .option('-p, --param <key value>', 'a parameter (repeatable)')
      .option('-a, --annotation <key value>', 'an annotation (repeatable)')
      .action(async (name: string, flags: { paramFile?: string; shared?: string }) => {
        const { body } = await ctx.api().request('PUT', ctx.api().entityPath('packages', name), {
          query: verb === 'update' ? { overwrite: true } : undefined,
          body: packageBody(ctx, flags),
        });
        report(ctx.out(), `${verb}d package ${name}`, ctx.out().json ? body : undefined);
      });
  }

  pkg
    .command('bind <package> <name>')
    .description('bind a package (yours, or a shared one as /namespace/package) under a new name, with parameters of its own')
    .option('-P, --param-file <file>', 'parameters from a JSON file')
    .option('-p, --param <key value>', 'a parameter (repeatable)')
    .option('-a, --annotation <key value>', 'an annotation (repeatable)')
    .action(async (target: string, name: string, flags: { paramFile?: string }) => {
      const body = { parameters: [], annotations: [], ...packageBody(ctx, flags), binding: await bindingTarget(ctx, target) };
      const { body: result } = await ctx.api().request('PUT', ctx.api().entityPath('packages', name), { body });
      report(ctx.out(), `created binding ${name}`, ctx.out().json ? result : undefined);
    });

  pkg
    .command('get <name>')
    .description('get a package (a binding shows the bound package)')
    .option('-s, --summary', 'a summary of the package and its actions')
    .action(async (name: string, flags: { summary?: boolean }) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('packages', name));
      if (flags.summary && !ctx.out().json) return printSummary(body as Package);
      report(ctx.out(), `got package ${name}`, body);
    });

  withListOptions(pkg.command('list [namespace]').description("list packages (another namespace's: its shared ones)")).action(
    async (namespace: string | undefined, flags: ListFlags) => {
      const list = await fetchList(ctx.api(), 'packages', flags, { namespace });
      if (ctx.out().json) return printJson(list);
      printList('packages', list);
    },
  );

  pkg
    .command('delete <name>')
    .description('delete a package (it must be empty)')
    .action(async (name: string) => {
      const { body } = await ctx.api().request('DELETE', ctx.api().entityPath('packages', name));
      report(ctx.out(), `deleted package ${name}`, ctx.out().json ? body : undefined);
    });
}
