import type { Command } from 'commander';
import type { Api } from './api';
import type { Context } from './context';
import { printJson, report, table } from './output';

interface Brief {
  activationId: string;
  name: string;
  namespace: string;
  start: number;
  duration?: number;
  statusCode?: number;
  annotations?: Array<{ key: string; value: unknown }>;
}

/** A log line without OpenWhisk's `<ISO time> <stream>: ` prefix (`activation logs --strip`), as wsk strips it. */
export function strippedLogLine(line: string): string {
  const match = /^\S+\s+(?:stdout|stderr):\s?(.*)$/s.exec(line);
  return match ? match[1] : line;
}

const STATUS = ['success', 'application error', 'developer error', 'internal error'];

interface PollFlags {
  exit?: string;
  sinceSeconds?: string;
  sinceMinutes?: string;
  sinceHours?: string;
  sinceDays?: string;
}

const POLL_INTERVAL_MS = 2000;

function sinceMs(flags: PollFlags): number {
  const seconds = Number(flags.sinceSeconds ?? 0) + 60 * Number(flags.sinceMinutes ?? 0) + 3600 * Number(flags.sinceHours ?? 0) + 86400 * Number(flags.sinceDays ?? 0);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error('--since-seconds, --since-minutes, --since-hours and --since-days take numbers of 0 or more.');
  return Date.now() - seconds * 1000;
}

/**
 * `activation poll`: every 2 s, the activations since the start (optionally of one action), each
 * new one printed once, oldest first, with its logs; `--exit N` ends it after N seconds.
 */
async function poll(api: Api, name: string | undefined, flags: PollFlags): Promise<void> {
  const exitAfter = flags.exit === undefined ? undefined : Number(flags.exit);
  if (exitAfter !== undefined && !(exitAfter >= 0)) throw new Error('--exit takes a number of seconds.');
  const deadline = exitAfter === undefined ? Infinity : Date.now() + exitAfter * 1000;
  const since = sinceMs(flags);
  const seen = new Set<string>();
  console.log('Enter Ctrl-c to exit.');
  console.log('Polling for activation logs');
  for (;;) {
    const { body } = await api.request('GET', api.entityPath('activations'), { query: { docs: true, since, name } });
    for (const record of [...(body as Array<Brief & { logs?: string[] }>)].reverse()) {
      if (seen.has(record.activationId)) continue;
      seen.add(record.activationId);
      console.log(`\nActivation: '${record.name}' (${record.activationId})`);
      for (const line of record.logs ?? []) console.log(line);
    }
    const left = deadline - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, left)));
  }
}

interface Activation extends Brief {
  end?: number;
  logs?: string[];
  response?: { status?: string; result?: unknown };
}

/** `activation get --summary` and `--logs` as wsk prints them (wsk gives the end time in its local zone; this gives UTC). */
function printGetVariant(record: Activation, variant: 'summary' | 'logs'): void {
  if (variant === 'logs') {
    for (const line of record.logs ?? []) console.log(strippedLogLine(line));
    return;
  }
  // As wsk: the end time (the epoch for a record without one) and the result, null when absent.
  console.log(`activation result for '/${record.namespace}/${record.name}' (${record.response?.status ?? ''} at ${goTime(record.end ?? 0)})`);
  printJson(record.response?.result ?? null);
}

/** A time as Go's time.Time prints by default, to the second, in UTC: `2026-12-02 06:30:01 +0000 UTC`. */
function goTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19)} +0000 UTC`;
}

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
    .option('-f, --full', 'every activation in full, as activation get shows it')
    .action(async (name: string | undefined, flags: { limit?: string; skip?: string; since?: string; upto?: string; full?: boolean }) => {
      const { body } = await ctx.api().request('GET', ctx.api().entityPath('activations'), {
        query: { name, limit: flags.limit, skip: flags.skip, since: flags.since, upto: flags.upto, docs: flags.full ? true : undefined },
      });
      const list = body as Brief[];
      if (ctx.out().json) return printJson(list);
      if (flags.full) {
        console.log('activations');
        for (const record of list) printJson(record);
        return;
      }
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

  activation
    .command('poll [name]')
    .description('print the logs of new activations (of one action) as they arrive')
    .option('--exit <seconds>', 'stop after this many seconds')
    .option('--since-seconds <n>', 'start this many seconds ago')
    .option('--since-minutes <n>', 'start this many minutes ago')
    .option('--since-hours <n>', 'start this many hours ago')
    .option('--since-days <n>', 'start this many days ago')
    .action((name: string | undefined, flags: PollFlags) => poll(ctx.api(), name, flags));

  for (const [verb, suffix, what] of [
    ['get', '', 'got activation'],
    ['logs', '/logs', 'got logs of activation'],
    ['result', '/result', 'got result of activation'],
  ] as const) {
    const command = activation
      .command(`${verb} [id]`)
      .description(`${verb === 'get' ? 'get an activation record' : `get an activation's ${verb}`}`)
      .option('-l, --last', 'use the newest activation');
    if (verb === 'logs') command.option('-r, --strip', 'only the message of each line, without its time and stream');
    if (verb === 'get') {
      command
        .option('-s, --summary', 'the result, under a line naming the action, its status and end time')
        .option('-g, --logs', 'only the logs, without their times and streams');
    }
    command.action(async (id: string | undefined, flags: { last?: boolean; strip?: boolean; summary?: boolean; logs?: boolean }) => {
      const activationId = id && !flags.last ? id : await latestId(ctx.api());
      const { body } = await ctx.api().request('GET', `${ctx.api().entityPath('activations', activationId)}${suffix}`);
      if (verb === 'logs' && !ctx.out().json) {
        for (const line of (body as { logs: string[] }).logs) console.log(flags.strip ? strippedLogLine(line) : line);
        return;
      }
      if (verb === 'get' && !ctx.out().json && (flags.summary || flags.logs)) return printGetVariant(body as Activation, flags.summary ? 'summary' : 'logs');
      if (verb === 'result' || ctx.out().json) return printJson(body);
      report(ctx.out(), `${what} ${activationId}`, body);
    });
  }
}
