import type { Command } from 'commander';
import type { Context } from './context';
import { fetchList, printList, withListOptions, type ListFlags } from './listing';
import { printJson, report } from './output';
import { deletedAnnotations, toKeyValueList } from './params';

/** The rule's body: trigger and action as fully qualified names in the caller's namespace unless named. */
async function ruleBody(ctx: Context, trigger: string, action: string): Promise<Record<string, unknown>> {
  const api = ctx.api();
  const body: Record<string, unknown> = { trigger: await api.fullyQualified(trigger), action: await api.fullyQualified(action) };
  if (Object.keys(ctx.pairs.annotations).length) body.annotations = toKeyValueList(ctx.pairs.annotations);
  Object.assign(body, deletedAnnotations(ctx.pairs));
  return body;
}

async function setStatus(ctx: Context, name: string, status: 'active' | 'inactive'): Promise<unknown> {
  const { body } = await ctx.api().request('POST', ctx.api().entityPath('rules', name), { body: { status } });
  return body;
}

export function registerRuleCommands(program: Command, ctx: Context): void {
  const rule = program.command('rule').description('work with rules');

  for (const verb of ['create', 'update'] as const) {
    rule
      .command(`${verb} <name> <trigger> <action>`)
      .description(`${verb} a rule: when the trigger fires, the action runs`)
      .option('-a, --annotation <key value>', 'an annotation (repeatable)')
      .action(async (name: string, trigger: string, action: string) => {
        const { body } = await ctx.api().request('PUT', ctx.api().entityPath('rules', name), {
          query: verb === 'update' ? { overwrite: true } : undefined,
          body: await ruleBody(ctx, trigger, action),
        });
        report(ctx.out(), `${verb}d rule ${name}`, ctx.out().json ? body : undefined);
      });
  }

  rule
    .command('get <name>')
    .description('get a rule')
    .action(async (name: string) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('rules', name));
      report(ctx.out(), `got rule ${name}`, body);
    });

  withListOptions(rule.command('list [namespace]').description('list rules')).action(async (namespace: string | undefined, flags: ListFlags) => {
    const list = await fetchList(ctx.api(), 'rules', flags, { namespace });
    if (ctx.out().json) return printJson(list);
    printList('rules', list);
  });

  rule
    .command('delete <name>')
    .description('delete a rule')
    .option('--disable', 'disable the rule first')
    .action(async (name: string, flags: { disable?: boolean }) => {
      if (flags.disable) await setStatus(ctx, name, 'inactive');
      const { body } = await ctx.api().request('DELETE', ctx.api().entityPath('rules', name));
      report(ctx.out(), `deleted rule ${name}`, ctx.out().json ? body : undefined);
    });

  for (const [verb, status] of [
    ['enable', 'active'],
    ['disable', 'inactive'],
  ] as const) {
    rule
      .command(`${verb} <name>`)
      .description(`${verb} a rule`)
      .action(async (name: string) => {
        const body = await setStatus(ctx, name, status);
        report(ctx.out(), `${verb}d rule ${name}`, ctx.out().json ? (body ?? {}) : undefined);
      });
  }

  rule
    .command('status <name>')
    .description("get a rule's status")
    .action(async (name: string) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('rules', name));
      const { status } = body as { status?: string };
      report(ctx.out(), `rule ${name} is ${status ?? 'unknown'}`, ctx.out().json ? { status } : undefined);
    });
}
