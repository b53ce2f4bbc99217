import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { pathParametersOf } from '../apis/swagger';
import { ApiError } from './api';
import { annotation, type Context, type KeyValue } from './context';
import { printJson, table } from './output';

/**
 * `api create|get|list|delete`: wsk's API management grammar. Each command calls the system
 * package `/whisk.system/apimgmt` as wsk does (its web actions, with the caller's key), and prints
 * what wsk prints.
 */

const APIMGMT = 'web/whisk.system/apimgmt';

interface Operation {
  operationId?: string;
  'x-openwhisk'?: { namespace: string; package: string; action: string; url: string };
}

interface ApiDoc {
  basePath: string;
  info?: { title?: string };
  paths: Record<string, Record<string, Operation>>;
}

interface ApiValue {
  gwApiUrl: string;
  apidoc: ApiDoc;
}

function actionNameOf(target: NonNullable<Operation['x-openwhisk']>): string {
  return `/${target.namespace}/${target.package ? `${target.package}/` : ''}${target.action}`;
}

/** Each route of an API as wsk lists it: action, verb, API name and URL. */
function routesOf(value: ApiValue, relPath?: string, verb?: string): Array<{ action: string; verb: string; name: string; basePath: string; path: string; url: string }> {
  const rows = [];
  for (const [path, operations] of Object.entries(value.apidoc.paths ?? {})) {
    if (relPath !== undefined && path !== relPath) continue;
    for (const [method, operation] of Object.entries(operations)) {
      const target = operation['x-openwhisk'];
      if (!target || (verb !== undefined && method !== verb.toLowerCase())) continue;
      rows.push({
        action: actionNameOf(target),
        verb: method,
        name: value.apidoc.info?.title ?? value.apidoc.basePath,
        basePath: value.apidoc.basePath,
        path,
        url: value.gwApiUrl.replace(/\/+$/, '') + path,
      });
    }
  }
  return rows;
}

async function unable<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ApiError) throw new ApiError(error.status, `Unable to ${what}: ${error.message}`, error.body);
    throw error;
  }
}

/** YAML 1.1's timestamp and base-60 tags, which wsk's reader does not apply to untyped values. */
const keepTimesAsText = (tags: YAML.Tags): YAML.Tags =>
  tags.filter((tag) => typeof tag === 'string' || (tag.tag !== 'tag:yaml.org,2002:timestamp' && tag.format !== 'TIME'));

/**
 * A `--config-file` swagger document, checked as wsk checks it: YAML when the name ends in `yaml` or
 * `yml`, JSON otherwise, with basePath, swagger, info and paths present and a base path from `/`.
 */
export function readSwaggerFile(file: string): ApiDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`Error reading swagger file '${file}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let swagger: unknown;
  if (file.endsWith('yaml') || file.endsWith('yml')) {
    try {
      // As wsk's YAML reader (go-yaml v2 through ghodss/yaml): YAML 1.1 booleans (yes/no) and
      // octals, the first document only, and dates and base-60 times (`1:30`) left as text.
      const [first] = YAML.parseAllDocuments(text, { version: '1.1', customTags: keepTimesAsText });
      if (first && 'errors' in first && first.errors.length) throw first.errors[0];
      swagger = first && 'toJS' in first ? first.toJS({ maxAliasCount: 100 }) : undefined;
    } catch (error) {
      throw new Error(`Unable to parse YAML configuration file: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  } else {
    try {
      swagger = JSON.parse(text);
    } catch (error) {
      throw new Error(`Error parsing swagger file '${file}': ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  const doc = (typeof swagger === 'object' && swagger !== null ? swagger : {}) as Record<string, unknown>;
  if (!doc.basePath || !doc.swagger || !doc.info || !doc.paths) throw new Error('Swagger file is invalid (missing basePath, info, paths, or swagger fields)');
  if (typeof doc.basePath !== 'string' || !doc.basePath.startsWith('/')) throw new Error('Swagger file basePath must start with a leading slash (/)');
  return doc as unknown as ApiDoc;
}

export function registerApiCommands(program: Command, ctx: Context): void {
  const apiCommand = program.command('api').description('work with APIs (routes to web actions)');

  apiCommand
    .command('create [basePath] [relPath] [verb] [action]')
    .description('create a route: BASE_PATH API_PATH API_VERB ACTION, or --config-file with a swagger document')
    .option('-n, --apiname <name>', 'the friendly name of the API (the base path when absent)')
    .option('-c, --config-file <file>', 'a swagger 2.0 document defining the whole API (YAML when named .yaml or .yml, else JSON)')
    .option('--response-type <type>', 'the web action response type: json, http, html, svg or text', 'json')
    .action(async (first: string | undefined, second: string | undefined, third: string | undefined, fourth: string | undefined, flags: { apiname?: string; configFile?: string; responseType: string }) => {
      const api = ctx.api();
      if (flags.configFile) {
        const swagger = readSwaggerFile(flags.configFile);
        const { body } = await unable('create API', () =>
          api.request('POST', `${APIMGMT}/createApi.http`, { query: { responsetype: flags.responseType }, body: { apidoc: { namespace: api.namespace, swagger: JSON.stringify(swagger) } } }),
        );
        const value = body as ApiValue;
        if (ctx.out().json) return printJson(value);
        for (const row of routesOf(value)) console.log(`ok: created API ${row.basePath.replace(/\/$/, '')}${row.path} ${row.verb.toUpperCase()} for action ${row.action}\n${row.url}`);
        return;
      }
      // BASE_PATH is optional: three arguments are API_PATH API_VERB ACTION under '/'.
      const [basePath, relPath, verb, actionName] = fourth === undefined ? ['/', first, second, third] : [first, second, third, fourth];
      if (!basePath || !relPath || !verb || !actionName) throw new Error('Invalid argument(s). Specify BASE_PATH API_PATH API_VERB ACTION, or --config-file.');
      const pathParameters = pathParametersOf(relPath);
      if (pathParameters.length && flags.responseType !== 'http') throw new Error("A response type of 'http' is required when using path parameters.");
      const qualified = await api.fullyQualified(actionName);
      const [namespace, ...rest] = qualified.slice(1).split('/');
      const { body: action } = await unable('get action', () => api.request('GET', api.entityPath('actions', qualified)));
      const entity = action as { annotations?: KeyValue[] };
      const webExport = annotation(entity, 'web-export');
      if (webExport !== true && webExport !== 'true') {
        throw new Error(`Action '${qualified}' is not a web action. Issue 'skywhisk action update "${actionName}" --web true' to convert the action to a web action.`);
      }
      const secureKey = annotation(entity, 'require-whisk-auth');
      const name = rest.join('/');
      const pkg = rest.length === 2 ? rest[0] : 'default';
      const apidoc = {
        namespace: api.namespace,
        ...(flags.apiname ? { apiName: flags.apiname } : {}),
        gatewayBasePath: basePath,
        gatewayPath: relPath,
        gatewayMethod: verb.toUpperCase(),
        id: `API:${api.namespace}:${basePath}`,
        action: {
          name,
          namespace,
          backendMethod: verb.toUpperCase(),
          backendUrl: `${api.apihost}/api/v1/web/${namespace}/${pkg}/${rest[rest.length - 1]}.http`,
          authkey: api.authKey,
          ...(typeof secureKey === 'string' || typeof secureKey === 'number' ? { secureKey } : {}),
        },
        ...(pathParameters.length
          ? { pathParameters: pathParameters.map((p) => ({ name: p, in: 'path', description: `Default description for '${p}'`, required: true, type: 'string' })) }
          : {}),
      };
      const { body } = await unable('create API', () => api.request('POST', `${APIMGMT}/createApi.http`, { query: { responsetype: flags.responseType }, body: { apidoc } }));
      const value = body as ApiValue;
      if (ctx.out().json) return printJson(value);
      console.log(`ok: created API ${basePath.replace(/\/$/, '')}${relPath} ${verb.toUpperCase()} for action ${qualified}\n${value.gwApiUrl.replace(/\/+$/, '')}${relPath}`);
    });

  apiCommand
    .command('get <basePathOrName>')
    .description('get the swagger document of an API')
    .option('-f, --full', 'the whole API record, not only its swagger document')
    .option('--format <format>', 'json (the default) or yaml')
    .action(async (basePath: string, flags: { full?: boolean; format?: string }) => {
      const format = (flags.format ?? 'json').toLowerCase();
      if (format !== 'json' && format !== 'yaml') throw new Error(`Invalid format type: ${flags.format}`);
      const { body } = await unable('get API', () => ctx.api().request('GET', `${APIMGMT}/getApi.http`, { query: { basepath: basePath } }));
      const [first] = (body as { apis?: Array<{ value: ApiValue }> }).apis ?? [];
      if (!first) throw new Error(`API does not exist for basepath ${basePath}`);
      const shown = flags.full ? first.value : first.value.apidoc;
      if (format === 'yaml') return console.log(YAML.stringify(shown));
      printJson(shown);
    });

  apiCommand
    .command('list [basePathOrName] [relPath] [verb]')
    .description('list the routes of every API, or of one')
    .option('-f, --full', 'each route in full, not as a table row')
    .option('-l, --limit <n>', 'how many APIs to list', '30')
    .option('-s, --skip <n>', 'how many APIs to skip', '0')
    .action(async (basePath: string | undefined, relPath: string | undefined, verb: string | undefined, flags: { full?: boolean; limit: string; skip: string }) => {
      const { body } = await unable('get API', () =>
        ctx.api().request('GET', `${APIMGMT}/getApi.http`, { query: { basepath: basePath, limit: flags.limit, skip: flags.skip } }),
      );
      const apis = (body as { apis?: Array<{ value: ApiValue }> }).apis ?? [];
      if (ctx.out().json) return printJson(apis);
      const rows = apis.flatMap((a) => routesOf(a.value, relPath, verb));
      console.log('ok: APIs');
      if (flags.full) {
        for (const r of rows) console.log(`Action: ${r.action}\n  API Name: ${r.name}\n  Base path: ${r.basePath}\n  Path: ${r.path}\n  Verb: ${r.verb}\n  URL: ${r.url}`);
        return;
      }
      console.log(table([['Action', 'Verb', 'API Name', 'URL'], ...rows.map((r) => [r.action, r.verb, r.name, r.url])]));
    });

  apiCommand
    .command('delete <basePathOrName> [relPath] [verb]')
    .description('delete an API, one of its paths, or one operation of a path')
    .action(async (basePath: string, relPath: string | undefined, verb: string | undefined) => {
      await unable('delete API', () =>
        ctx.api().request('DELETE', `${APIMGMT}/deleteApi.http`, { query: { basepath: basePath, relpath: relPath, operation: verb?.toUpperCase() } }),
      );
      if (ctx.out().json) return;
      console.log(relPath === undefined ? `ok: deleted API ${basePath}` : verb === undefined ? `ok: deleted ${relPath} from ${basePath}` : `ok: deleted ${relPath} ${verb.toUpperCase()} from ${basePath}`);
    });
}
