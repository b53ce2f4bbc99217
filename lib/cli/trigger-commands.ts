import type { Command } from 'commander';
import { Api, ApiError } from './api';
import { annotation, fromList, type Context, type KeyValue } from './context';
import { FeedError, invokeFeed } from './feeds';
import { fetchList, printList, withListOptions, type ListFlags } from './listing';
import { printJson, report } from './output';
import { deletedAnnotations, mergedParams, readJsonObjectFile, toKeyValueList } from './params';
import { summaryLines } from './summary';

interface Trigger {
  namespace: string;
  name: string;
  annotations?: KeyValue[];
  parameters?: KeyValue[];
}

async function getTrigger(api: Api, name: string): Promise<Trigger | undefined> {
  try {
    return (await api.request('GET', api.entityPath('triggers', name))).body as Trigger;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** `trigger create --feed`: the trigger (annotated, without parameters), then the feed's CREATE; a failed feed removes the trigger again. */
async function createFeedTrigger(ctx: Context, name: string, feedName: string, params: Record<string, unknown>): Promise<void> {
  const api = ctx.api();
  const feed = await api.fullyQualified(feedName);
  const fullName = await api.fullyQualified(name);
  const annotations = toKeyValueList({ ...ctx.pairs.annotations, feed });
  const { body: created } = await api.request('PUT', api.entityPath('triggers', name), { body: { annotations } });
  let activationId: string | undefined;
  try {
    activationId = await invokeFeed(api, feed, 'CREATE', fullName, params);
  } catch (error) {
    await api.request('DELETE', api.entityPath('triggers', name)).catch(() => undefined);
    throw new Error(`Unable to create trigger '${name}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!ctx.out().json && activationId) console.log(`ok: invoked ${feed} with id ${activationId}`);
  report(ctx.out(), `created trigger ${name}`, ctx.out().json ? created : undefined);
}

/** `trigger update` of a feed trigger: parameters go to the feed (UPDATE), annotations to the trigger. */
async function updateFeedTrigger(ctx: Context, name: string, existing: Trigger, feed: string, params: Record<string, unknown>): Promise<void> {
  const api = ctx.api();
  if (Object.keys(params).length) {
    const activationId = await invokeFeed(api, feed, 'UPDATE', await api.fullyQualified(name), params).catch((error: unknown) => {
      throw error instanceof FeedError ? new Error(`Unable to update trigger '${name}': ${error.message}`, { cause: error }) : error;
    });
    if (!ctx.out().json && activationId) console.log(`ok: invoked ${feed} with id ${activationId}`);
  }
  let updated: unknown = existing;
  if (Object.keys(ctx.pairs.annotations).length) {
    const annotations = toKeyValueList({ ...fromList(existing.annotations), ...ctx.pairs.annotations, feed });
    updated = (await api.request('PUT', api.entityPath('triggers', name), { query: { overwrite: true }, body: { annotations } })).body;
  }
  report(ctx.out(), `updated trigger ${name}`, ctx.out().json ? updated : undefined);
}

async function putTrigger(ctx: Context, name: string, params: Record<string, unknown>, overwrite: boolean): Promise<void> {
  const body: Record<string, unknown> = {};
  if (Object.keys(params).length) body.parameters = toKeyValueList(params);
  if (Object.keys(ctx.pairs.annotations).length) body.annotations = toKeyValueList(ctx.pairs.annotations);
  Object.assign(body, deletedAnnotations(ctx.pairs));
  const api = ctx.api();
  const { body: result } = await api.request('PUT', api.entityPath('triggers', name), { query: overwrite ? { overwrite: true } : undefined, body });
  report(ctx.out(), `${overwrite ? 'updated' : 'created'} trigger ${name}`, ctx.out().json ? result : undefined);
}

/** `trigger delete`: a feed trigger's feed hears DELETE first; a feed action that is gone does not keep the trigger alive. */
async function deleteTrigger(ctx: Context, name: string): Promise<void> {
  const api = ctx.api();
  const existing = await getTrigger(api, name);
  const feed = existing && annotation(existing, 'feed');
  if (typeof feed === 'string') {
    try {
      const activationId = await invokeFeed(api, feed, 'DELETE', await api.fullyQualified(name));
      if (!ctx.out().json && activationId) console.log(`ok: invoked ${feed} with id ${activationId}`);
    } catch (error) {
      if (!(error instanceof FeedError)) throw error;
      if (error.status !== 404) throw new Error(`Unable to delete trigger '${name}': ${error.message}`, { cause: error });
      console.error(`warning: the feed ${feed} does not exist; deleting the trigger without it`);
    }
  }
  const { body } = await api.request('DELETE', api.entityPath('triggers', name));
  report(ctx.out(), `deleted trigger ${name}`, ctx.out().json ? body : undefined);
}

/** `-F` file, then `-P` file, then `-p` pairs: each goes over the one before, as wsk merges them. */
function feedParams(flags: { paramFile?: string; feedParamFile?: string }, ctx: Context): Record<string, unknown> {
  return { ...(flags.feedParamFile ? readJsonObjectFile(flags.feedParamFile) : {}), ...mergedParams(flags.paramFile, ctx.pairs) };
}

export function registerTriggerCommands(program: Command, ctx: Context): void {
  const trigger = program.command('trigger').description('work with triggers');
  const pairOptions = (command: Command) =>
    command
      .option('-P, --param-file <file>', 'parameters from a JSON file')
      .option('-p, --param <key value>', 'a parameter (repeatable)')
      .option('-a, --annotation <key value>', 'an annotation (repeatable)');

  pairOptions(trigger.command('create <name>').description('create a trigger'))
    .option('-f, --feed <action>', 'the feed action that fires the trigger (its parameters go to the feed)')
    .option('-F, --feed-param-file <file>', "the feed's parameters from a JSON file (-P and -p go over them)")
    .action(async (name: string, flags: { paramFile?: string; feed?: string; feedParamFile?: string }) => {
      const params = feedParams(flags, ctx);
      if (flags.feed) await createFeedTrigger(ctx, name, flags.feed, params);
      else if (flags.feedParamFile) throw new Error('--feed-param-file is for a trigger with a --feed.');
      else await putTrigger(ctx, name, params, false);
    });

  pairOptions(trigger.command('update <name>').description('update a trigger (a feed trigger passes its parameters to the feed)'))
    .option('-F, --feed-param-file <file>', "the feed's parameters from a JSON file (-P and -p go over them)")
    .action(async (name: string, flags: { paramFile?: string; feedParamFile?: string }) => {
      const params = feedParams(flags, ctx);
      const existing = await getTrigger(ctx.api(), name);
      const feed = existing && annotation(existing, 'feed');
      if (existing && typeof feed === 'string') await updateFeedTrigger(ctx, name, existing, feed, params);
      else if (flags.feedParamFile) throw new Error(`--feed-param-file is for a trigger with a feed; '${name}' has none.`);
      else await putTrigger(ctx, name, params, true);
    });

  trigger
    .command('get <name>')
    .description('get a trigger')
    .option('-s, --summary', 'a summary of the trigger')
    .action(async (name: string, flags: { summary?: boolean }) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('triggers', name));
      if (flags.summary && !ctx.out().json) return console.log(summaryLines('trigger', body as Trigger).join('\n'));
      report(ctx.out(), `got trigger ${name}`, body);
    });

  withListOptions(trigger.command('list [namespace]').description('list triggers')).action(async (namespace: string | undefined, flags: ListFlags) => {
    const list = await fetchList(ctx.api(), 'triggers', flags, { namespace });
    if (ctx.out().json) return printJson(list);
    printList('triggers', list);
  });

  trigger
    .command('delete <name>')
    .description('delete a trigger (after telling its feed)')
    .action((name: string) => deleteTrigger(ctx, name));

  trigger
    .command('fire <name>')
    .description('fire a trigger')
    .option('-P, --param-file <file>', 'parameters from a JSON file')
    .option('-p, --param <key value>', 'a parameter (repeatable)')
    .action(async (name: string, flags: { paramFile?: string }) => {
      const api = ctx.api();
      const { status, body } = await api.request('POST', api.entityPath('triggers', name), { body: mergedParams(flags.paramFile, ctx.pairs) });
      const id = (body as { activationId?: string } | undefined)?.activationId;
      // 204: no rule is active, so nothing ran and no activation was recorded.
      if (status === 204 || !id) return report(ctx.out(), `fired trigger ${name}; no active rule, so no activation`, ctx.out().json ? {} : undefined);
      report(ctx.out(), `fired trigger ${name} with id ${id}`, ctx.out().json ? body : undefined);
    });
}
