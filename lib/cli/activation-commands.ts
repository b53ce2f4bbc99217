import type { Command } from 'commander';
import type { Api } from './api';
import { printJson, report, table, type Output } from './output';

type Context = { api: () => Api; out: () => Output };

interface Brief {
  activationId: string;
  name: string;
  namespace: string;
  start: number;
  duration?: number;
  statusCode?: number;
  annotations?: Array<{ key: string; value: unknown }>;
}

const STATUS = ['success', 'application error', 'developer error', 'internal error'];

async function latestId(api: Api): Promise<string> {
  const { body } = await api.request('GET', api.entityPath('activations'), { query: { limit: 1 } });
  const [latest] = body as Brief[];
  if (!latest) throw new Error('There are no activations.');
  return latest.activationId;
}

export function registerActivationCommands(program: Command, ctx: Context): void {
  const activation = program.command('activation').description('work with activations');

  activation
    .command('list [name]')
    .description('list activations, newest first')
    .option('--limit <n>', 'how many to list')
    .option('--skip <n>', 'how many to skip')
    .option('--since <ms>', 'started at or after (epoch ms)')
    .option('--upto <ms>', 'started at or before (epoch ms)')
    .action(async (name: string | undefined, flags: { limit?: string; skip?: string; since?: string; upto?: string }) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('activations'), {
        query: { name, limit: flags.limit, skip: flags.skip, since: flags.since, upto: flags.upto },
      });
      const list = body as Brief[];
      if (ctx.out().json) return printJson(list);
      const rows = [['Datetime', 'Activation ID', 'Kind', 'Start', 'Duration', 'Status', 'Entity']];
      for (const a of list) {
        const annotation = (key: string) => a.annotations?.find((x) => x.key === key)?.value;
        rows.push([
          new Date(a.start).toISOString().replace('T', ' ').slice(0, 19),
          a.activationId,
          String(annotation('kind') ?? 'unknown'),
          annotation('initTime') !== undefined ? 'cold' : 'warm',
          a.duration !== undefined ? `${a.duration}ms` : '',
          STATUS[a.statusCode ?? 0] ?? String(a.statusCode),
          `${a.namespace}/${a.name}`,
        ]);
      }
      console.log(table(rows));
    });

  for (const [verb, suffix, what] of [
    ['get', '', 'got activation'],
    ['logs', '/logs', 'got logs of activation'],
    ['result', '/result', 'got result of activation'],
  ] as const) {
    activation
      .command(`${verb} [id]`)
      .description(`${verb === 'get' ? 'get an activation record' : `get an activation's ${verb}`}`)
      .option('-l, --last', 'use the newest activation')
      .action(async (id: string | undefined, flags: { last?: boolean }) => {
        const activationId = id && !flags.last ? id : await latestId(ctx.api());
        const { body } = await ctx.api().request('GET', `${ctx.api().entityPath('activations', activationId)}${suffix}`);
        if (verb === 'logs' && !ctx.out().json) {
          for (const line of (body as { logs: string[] }).logs) console.log(line);
          return;
        }
        if (verb === 'result' || ctx.out().json) return printJson(body);
        report(ctx.out(), `${what} ${activationId}`, body);
      });
  }
}
