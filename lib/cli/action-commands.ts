import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { Api, ApiError } from './api';
import { fromList, type Context, type KeyValue } from './context';
import { fetchList, printList, withListOptions, type ListFlags } from './listing';
import { printJson, report } from './output';
import { deletedAnnotations, mergedParams, toKeyValueList } from './params';
import { summaryLines } from './summary';

const KIND_BY_EXTENSION: Record<string, string> = { '.js': 'nodejs:default', '.cjs': 'nodejs:default', '.py': 'python:default' };

interface ActionFlags {
  kind?: string;
  main?: string;
  timeout?: string;
  memory?: string;
  logsize?: string;
  concurrency?: string;
  paramFile?: string;
  sequence?: string;
  docker?: string;
  native?: boolean;
  web?: string;
  webSecure?: string;
}

/** The image wsk names for a native action. */
const NATIVE_SKELETON_IMAGE = 'openwhisk/dockerskeleton';

function readCode(file: string): { code: string; binary: boolean } {
  const binary = extname(file) === '.zip';
  return { code: binary ? readFileSync(file).toString('base64') : readFileSync(file, 'utf8'), binary };
}

/** `--sequence a,pkg/b,/ns/c`: every component fully qualified, in the caller's namespace unless named. */
async function sequenceExec(api: Api, list: string): Promise<Record<string, unknown>> {
  const names = list.split(',').map((n) => n.trim());
  if (names.some((n) => !n)) throw new Error(`'${list}' is not a list of actions: give --sequence a,b,c.`);
  const components: string[] = [];
  for (const name of names) components.push(await api.fullyQualified(name));
  return { kind: 'sequence', components };
}

async function actionExec(api: Api, file: string | undefined, flags: ActionFlags, create: boolean): Promise<Record<string, unknown> | undefined> {
  const main = flags.main ? { main: flags.main } : {};
  if (flags.sequence !== undefined) {
    if (file || flags.docker || flags.kind) throw new Error('An action made with --sequence takes no file, --kind or --docker.');
    return sequenceExec(api, flags.sequence);
  }
  if (flags.native) {
    if (flags.docker !== undefined || flags.kind) throw new Error('--native goes with neither --docker nor --kind: a native action runs in the skeleton image.');
    if (!file) throw new Error('A native action needs its executable: a zip holding exec, or a script.');
    return { kind: 'blackbox', image: NATIVE_SKELETON_IMAGE, ...readCode(file), ...main };
  }
  if (flags.docker !== undefined) {
    if (flags.kind) throw new Error('--docker and --kind do not go together: a docker action is of kind blackbox.');
    return { kind: 'blackbox', image: flags.docker, ...(file ? readCode(file) : {}), ...main };
  }
  if (file) {
    const kind = flags.kind ?? KIND_BY_EXTENSION[extname(file)];
    if (!kind) throw new Error(`Cannot tell the kind of '${file}' from its extension; give --kind.`);
    return { kind, ...readCode(file), ...main };
  }
  if (create) throw new Error('An action needs code: give a file, --docker <image> or --sequence <actions>.');
  return undefined;
}

/** wsk's `--web` values and the annotations each sets. */
function webAnnotations(web: string): Record<string, boolean> {
  switch (web.toLowerCase()) {
    case 'true':
    case 'yes':
      return { 'web-export': true, 'raw-http': false, final: true };
    case 'raw':
      return { 'web-export': true, 'raw-http': true, final: true };
    case 'false':
    case 'no':
      return { 'web-export': false, 'raw-http': false };
    default:
      throw new Error(`Invalid argument '${web}' for --web; give 'yes', 'true', 'raw', 'false' or 'no'.`);
  }
}

/** `--web-secure true` draws a numeric secret as wsk does; `false` opens the action; anything else is the secret. */
function webSecureValue(secret: string): unknown {
  if (secret.toLowerCase() === 'true') return randomInt(2 ** 47, 2 ** 48 - 1);
  if (secret.toLowerCase() === 'false') return false;
  return secret;
}

/** The annotations an update starts from when --web or --web-secure changes some of them. */
async function currentAnnotations(api: Api, name: string): Promise<Record<string, unknown>> {
  try {
    const { body } = await api.request('GET', api.entityPath('actions', name), { query: { code: false } });
    return fromList((body as { annotations?: KeyValue[] }).annotations);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return {};
    throw error;
  }
}

/** The action's annotations: (an update's current ones,) then --web's, then --web-secure, then -a pairs, which win. */
async function actionAnnotations(ctx: Context, name: string, flags: ActionFlags, create: boolean): Promise<Record<string, unknown> | undefined> {
  const user = ctx.pairs.annotations;
  if (flags.web === undefined && flags.webSecure === undefined) return Object.keys(user).length ? user : undefined;
  const annotations = create ? {} : await currentAnnotations(ctx.api(), name);
  if (flags.web !== undefined) Object.assign(annotations, webAnnotations(flags.web));
  if (flags.webSecure !== undefined) annotations['require-whisk-auth'] = webSecureValue(flags.webSecure);
  Object.assign(annotations, user);
  if (flags.webSecure !== undefined && annotations['web-export'] !== true) {
    throw new Error('The --web-secure option is only valid when the --web option is enabled.');
  }
  return annotations;
}

async function actionBody(ctx: Context, name: string, file: string | undefined, flags: ActionFlags, create: boolean): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  const exec = await actionExec(ctx.api(), file, flags, create);
  if (exec) body.exec = exec;
  const params = mergedParams(flags.paramFile, ctx.pairs);
  if (Object.keys(params).length) body.parameters = toKeyValueList(params);
  const annotations = await actionAnnotations(ctx, name, flags, create);
  if (annotations) body.annotations = toKeyValueList(annotations);
  Object.assign(body, deletedAnnotations(ctx.pairs));
  const limits: Record<string, number> = {};
  for (const [key, flag, value] of [
    ['timeout', '--timeout', flags.timeout],
    ['memory', '--memory', flags.memory],
    ['logs', '--logsize', flags.logsize],
    ['concurrency', '--concurrency', flags.concurrency],
  ] as const) {
    if (value === undefined) continue;
    if (!/^\d+$/.test(value)) throw new Error(`${flag} takes a whole number, not '${value}'.`);
    limits[key] = Number(value);
  }
  if (Object.keys(limits).length) body.limits = limits;
  return body;
}

function withActionOptions(command: Command): Command {
  return command
    .option('--kind <kind>', 'the runtime kind (nodejs:22, nodejs:20, nodejs:default, ...)')
    .option('--main <name>', 'the name of the entry function')
    .option('--docker <image>', 'a docker (blackbox) action running this image; a file is optional')
    .option('--native', 'a native action: the file is a zip holding an executable named exec, or a script')
    .option('--sequence <actions>', 'a sequence of these comma-separated actions (no file)')
    .option('--web <value>', 'make it a web action: true, yes, raw, false or no')
    .option('--web-secure <secret>', "a web action's secret (true: draw one; false: none)")
    .option('-t, --timeout <ms>', 'time limit in milliseconds')
    .option('-m, --memory <mb>', 'memory limit in MB')
    .option('-l, --logsize <mb>', 'log size limit in MB')
    .option('-c, --concurrency <n>', 'how many activations one container may run at once')
    .option('-P, --param-file <file>', 'parameters from a JSON file')
    .option('-p, --param <key value>', 'a parameter (repeatable)')
    .option('-a, --annotation <key value>', 'an annotation (repeatable)');
}

interface ActionDoc {
  namespace: string;
  name: string;
  exec?: { kind?: string; code?: string; binary?: boolean };
  annotations?: Array<{ key: string; value: unknown }>;
  parameters?: KeyValue[];
}

/** wsk's `action get --url`: the REST URL, or for a web action its web URL (`default` outside a package). */
export function actionUrl(apihost: string, doc: ActionDoc): string {
  const [namespace, ...pkg] = doc.namespace.split('/');
  const web = doc.annotations?.find((a) => a.key === 'web-export')?.value;
  const encoded = (parts: string[]) => parts.map(encodeURIComponent).join('/');
  if (web === true || web === 'true') return `${apihost}/api/v1/web/${encoded([namespace, pkg[0] ?? 'default', doc.name])}`;
  return `${apihost}/api/v1/namespaces/${encodeURIComponent(namespace)}/actions/${encoded([...pkg, doc.name])}`;
}

/** The file extension wsk saves an action's code with: by kind, `.zip` for a zip. */
export function codeExtension(exec: ActionDoc['exec']): string {
  if (exec?.binary) return exec.kind?.startsWith('java') ? '.jar' : '.zip';
  const family = exec?.kind?.split(':')[0] ?? '';
  return ({ nodejs: '.js', python: '.py', swift: '.swift', php: '.php', ruby: '.rb', go: '.go', dotnet: '.cs', rust: '.rs', java: '.java' } as Record<string, string>)[family] ?? '.txt';
}

export function registerActionCommands(program: Command, ctx: Context): void {
  const action = program.command('action').description('work with actions');

  for (const verb of ['create', 'update'] as const) {
    withActionOptions(action.command(`${verb} <name> [file]`).description(`${verb} an action`)).action(
      async (name: string, file: string | undefined, flags: ActionFlags) => {
        const body = await actionBody(ctx, name, file, flags, verb === 'create');
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
    .option('-r, --url', "print the action's URL (its web URL for a web action)")
    .option('--save', "save the action's code to a file named after it, in the current directory")
    .option('--save-as <file>', "save the action's code to this file")
    .option('-s, --summary', 'a summary of the action; bound parameters are starred (** when final)')
    .action(async (name: string, flags: { code?: string; url?: boolean; save?: boolean; saveAs?: string; summary?: boolean }) => {
      const api = ctx.api();
      const { body } = await api.request('GET', api.entityPath('actions', name), { query: { code: flags.summary && !flags.url ? false : flags.code } });
      const doc = body as ActionDoc;
      // wsk looks at --url before --summary.
      if (flags.summary && !flags.url && !ctx.out().json) return console.log(summaryLines('action', doc).join('\n'));
      if (flags.url) {
        const url = actionUrl(api.apihost, doc);
        if (ctx.out().json) return printJson({ url });
        console.log(`ok: got action ${name}\n${url}`);
        return;
      }
      if (flags.save || flags.saveAs) {
        const file = resolve(flags.saveAs ?? `${doc.name}${codeExtension(doc.exec)}`);
        if (typeof doc.exec?.code !== 'string') throw new Error(`The action ${name} has no code to save.`);
        if (existsSync(file)) throw new Error(`The file '${file}' already exists. Delete it and try again.`);
        writeFileSync(file, doc.exec.binary ? Buffer.from(doc.exec.code, 'base64') : doc.exec.code, { flag: 'wx' });
        console.log(`ok: saved action code to ${file}`);
        return;
      }
      report(ctx.out(), `got action ${name}`, body);
    });

  withListOptions(action.command('list [package]').description("list actions (a package's with 'pkg/' or '/ns/pkg/')")).action(
    async (pkg: string | undefined, flags: ListFlags) => {
      const api = ctx.api();
      const path = pkg ? `${api.entityPath('actions', pkg.replace(/\/+$/, ''))}/` : undefined;
      const list = await fetchList(api, 'actions', flags, { path });
      if (ctx.out().json) return printJson(list);
      printList('actions', list);
    },
  );

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
      const params = mergedParams(flags.paramFile, ctx.pairs);
      const blocking = Boolean(flags.blocking || flags.result);
      const { status, body, activationId } = await ctx.api().request('POST', ctx.api().entityPath('actions', name), {
        query: { blocking, result: flags.result ? true : undefined },
        body: params,
        acceptActionErrors: true,
      });
      // An array result is the whole body, so the id comes from the header.
      const record = { activationId, ...(Array.isArray(body) ? {} : (body as { activationId?: string })) };
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
