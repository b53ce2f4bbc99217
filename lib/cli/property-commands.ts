import type { Command } from 'commander';
import { readWskprops, wskpropsPath, writeWskprops } from './config';

const PROPERTIES = [
  ['apihost', 'APIHOST', 'whisk API host'],
  ['auth', 'AUTH', 'whisk auth'],
  ['namespace', 'NAMESPACE', 'whisk namespace'],
] as const;

export function registerPropertyCommands(program: Command): void {
  const property = program.command('property').description('work with CLI properties (the wskprops file)');

  const set = property.command('set').description('set properties');
  const get = property.command('get').description('get properties').option('--all', 'all properties');
  // `--apihost` and `--auth` are the root program's options (wsk accepts them anywhere); only
  // `--namespace` belongs to these commands.
  set.option('--namespace <value>', 'whisk namespace');
  get.option('--namespace', 'whisk namespace');
  set.action((_flags: Record<string, string>, command: Command) => {
    const flags = command.optsWithGlobals<Record<string, string | undefined>>();
    const file = wskpropsPath();
    const props = readWskprops(file);
    for (const [flag, key, label] of PROPERTIES) {
      const value = flags[flag];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new Error(`--${flag} needs a value.`);
      props[key] = value;
      console.log(`ok: ${label} set to ${value}`);
    }
    writeWskprops(file, props);
  });
  get.action((_flags: Record<string, boolean>, command: Command) => {
    const flags = command.optsWithGlobals<Record<string, unknown>>();
    const props = readWskprops(wskpropsPath());
    const all = flags.all || !PROPERTIES.some(([flag]) => flags[flag]);
    for (const [flag, key, label] of PROPERTIES) {
      if (all || flags[flag]) console.log(`${label.padEnd(24)}${props[key] ?? ''}`);
    }
  });
}
