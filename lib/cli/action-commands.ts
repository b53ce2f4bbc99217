import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Api } from './api';
import { printJson, report, table, type Output } from './output';
import { readParamFile, toKeyValueList, type KeyValuePairs } from './params';

type Context = { api: () => Api; out: () => Output; pairs: KeyValuePairs };

const KIND_BY_EXTENSION: Record<string, string> = { '.js': 'nodejs:default', '.cjs': 'nodejs:default', '.py': 'python:default' };

interface ActionFlags {
  kind?: string;
  main?: string;
  timeout?: string;
  memory?: string;
  logsize?: string;
  paramFile?: string;
}

function actionBody(file: string | undefined, flags: ActionFlags, pairs: KeyValuePairs, create: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (file) {
    const kind = flags.kind ?? KIND_BY_EXTENSION[extname(file)];
    if (!kind) throw new Error(`Cannot tell the kind of '${file}' from its extension; give --kind.`);
    const binary = extname(file) === '.zip';
    const code = binary ? readFileSync(file).toString('base64') : readFileSync(file, 'utf8');
    body.exec = { kind, code, binary, ...(flags.main ? { main: flags.main } : {}) };
  } else if (create) {
    throw new Error('An action needs code: give a file.');
  }
  const params = { ...(flags.paramFile ? readParamFile(flags.paramFile) : {}), ...pairs.params };
  if (Object.keys(params).length) body.parameters = toKeyValueList(params);
  if (Object.keys(pairs.annotations).length) body.annotations = toKeyValueList(pairs.annotations);
  const limits: Record<string, number> = {};
  if (flags.timeout) limits.timeout = Number(flags.timeout);
  if (flags.memory) limits.memory = Number(flags.memory);
  if (flags.logsize) limits.logs = Number(flags.logsize);
  if (Object.keys(limits).length) body.limits = limits;
  return body;
}

function withActionOptions(command: Command): Command {
  return command
    .option('--kind <kind>', 'the runtime kind (nodejs:20, nodejs:default, ...)')
    .option('--main <name>', 'the name of the entry function')
    .option('-t, --timeout <ms>', 'time limit in milliseconds')
    .option('-m, --memory <mb>', 'memory limit in MB')
    .option('-l, --logsize <mb>', 'log size limit in MB')
    .option('-P, --param-file <file>', 'parameters from a JSON file')
    .option('-p, --param <key value>', 'a parameter (repeatable)')
    .option('-a, --annotation <key value>', 'an annotation (repeatable)');
}

export function registerActionCommands(program: Command, ctx: Context): void {
  const action = program.command('action').description('work with actions');

  for (const verb of ['create', 'update'] as const) {
    withActionOptions(action.command(`${verb} <name> ${verb === 'create' ? '<file>' : '[file]'}`).description(`${verb} an action`)).action(
      async (name: string, file: string | undefined, flags: ActionFlags) => {
        const body = actionBody(file, flags, ctx.pairs, verb === 'create');
        const { body: result } = await ctx.api().request('PUT', ctx.api().entityPath('actions', name), {
          query: verb === 'update' ? { overwrite: true } : undefined,
          body,
        });
        report(ctx.out(), `${verb === 'create' ? 'created' : 'updated'} action ${name}`, ctx.out().json ? result : undefined);
      },
    );
  }

  action
    .command('get <name>')
    .description('get an action')
    .option('--code <bool>', 'include the code (default true)')
    .action(async (name: string, flags: { code?: string }) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('actions', name), { query: { code: flags.code } });
      report(ctx.out(), `got action ${name}`, body);
    });

  action
    .command('list [package]')
    .description('list actions')
    .option('--limit <n>', 'how many to list')
    .option('--skip <n>', 'how many to skip')
    .action(async (pkg: string | undefined, flags: { limit?: string; skip?: string }) => {
      const path = pkg ? `${ctx.api().entityPath('actions', pkg)}/` : ctx.api().entityPath('actions');
      const { body } = await ctx.api().request('GET', path, { query: { limit: flags.limit, skip: flags.skip } });
      const actions = body as Array<{ namespace: string; name: string; publish: boolean; annotations: Array<{ key: string; value: unknown }> }>;
      if (ctx.out().json) return printJson(actions);
      console.log('actions');
      if (actions.length === 0) return;
      console.log(
        table(actions.map((a) => [`/${a.namespace}/${a.name}`, a.publish ? 'shared' : 'private', String(a.annotations.find((x) => x.key === 'exec')?.value ?? '')])),
      );
    });

  action
    .command('delete <name>')
    .description('delete an action')
    .action(async (name: string) => {
      const { body } = await ctx.api().request('DELETE', ctx.api().entityPath('actions', name));
      report(ctx.out(), `deleted action ${name}`, ctx.out().json ? body : undefined);
    });

  action
    .command('invoke <name>')
    .description('invoke an action')
    .option('-b, --blocking', 'wait for the result')
    .option('-r, --result', 'print only the result (implies --blocking)')
    .option('-P, --param-file <file>', 'parameters from a JSON file')
    .option('-p, --param <key value>', 'a parameter (repeatable)')
    .action(async (name: string, flags: { blocking?: boolean; result?: boolean; paramFile?: string }) => {
      const params = { ...(flags.paramFile ? readParamFile(flags.paramFile) : {}), ...ctx.pairs.params };
      const blocking = Boolean(flags.blocking || flags.result);
      const { status, body } = await ctx.api().request('POST', ctx.api().entityPath('actions', name), {
        query: { blocking, result: flags.result ? true : undefined },
        body: params,
        acceptActionErrors: true,
      });
      const record = body as { activationId?: string; response?: { result?: unknown } };
      if (flags.result && status !== 202) {
        // With ?result=true the body is the result itself (also for 502, where it is {error}).
        printJson(body);
        if (status >= 400) process.exitCode = 1;
        return;
      }
      if (status === 202 || !blocking) {
        report(ctx.out(), `invoked /${name.replace(/^\//, '')} with id ${record.activationId}`, ctx.out().json ? body : undefined);
        return;
      }
      report(ctx.out(), `invoked /${name.replace(/^\//, '')} with id ${record.activationId}`, body);
      if (status >= 400) process.exitCode = 1;
    });
}
