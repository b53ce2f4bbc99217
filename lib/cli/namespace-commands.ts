import type { Command } from 'commander';
import type { Context } from './context';
import { fetchList, printList, withListOptions, type Brief, type Collection, type ListFlags } from './listing';
import { printJson } from './output';

const COLLECTIONS: Collection[] = ['packages', 'actions', 'triggers', 'rules'];

/** `wsk list` / `wsk namespace get`: every collection of one namespace, packages first. */
async function listEverything(ctx: Context, namespace: string | undefined, flags: ListFlags): Promise<void> {
  const api = ctx.api();
  const lists = await Promise.all(COLLECTIONS.map((collection) => fetchList(api, collection, flags, { namespace })));
  const all = Object.fromEntries(COLLECTIONS.map((collection, i) => [collection, lists[i]])) as Record<Collection, Brief[]>;
  if (ctx.out().json) return printJson(all);
  const name = namespace?.replace(/^\/+|\/+$/g, '') || api.namespace;
  console.log(`Entities in namespace: ${name === '_' ? 'default' : name}`);
  for (const collection of COLLECTIONS) printList(collection, all[collection]);
}

export function registerNamespaceCommands(program: Command, ctx: Context): void {
  const namespace = program.command('namespace').description('work with namespaces');

  withListOptions(namespace.command('list').description('list the namespaces of this key')).action(async (flags: ListFlags) => {
    const { body } = await ctx.api().request('GET', 'namespaces');
    // GET /namespaces takes no paging; --skip and --limit apply here.
    const skip = Number(flags.skip ?? 0);
    let names = (body as string[]).slice(skip, flags.limit && Number(flags.limit) > 0 ? skip + Number(flags.limit) : undefined);
    if (flags.nameSort) names = [...names].sort();
    if (ctx.out().json) return printJson(names);
    console.log('namespaces');
    for (const name of names) console.log(name);
  });

  withListOptions(namespace.command('get [namespace]').description('list the entities of a namespace')).action(
    (name: string | undefined, flags: ListFlags) => listEverything(ctx, name, flags),
  );

  withListOptions(program.command('list [namespace]').description('list the packages, actions, triggers and rules of a namespace')).action(
    (name: string | undefined, flags: ListFlags) => listEverything(ctx, name, flags),
  );
}
