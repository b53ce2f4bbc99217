import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'dotenv';

/** wsk's property file: `KEY=VALUE` lines in `WSK_CONFIG_FILE` or `~/.wskprops`. */
export function wskpropsPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.WSK_CONFIG_FILE ?? join(homedir(), '.wskprops');
}

export function readWskprops(file: string): Record<string, string> {
  return existsSync(file) ? parse(readFileSync(file, 'utf8')) : {};
}

export function writeWskprops(file: string, props: Record<string, string>): void {
  writeFileSync(file, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n', { mode: 0o600 });
}

export interface CliConfig {
  apihost: string;
  auth: string;
  namespace: string;
}

/** Flags win over `__OW_API_HOST`/`__OW_API_KEY` (and wsk's older `WHISK_*`), which win over the property file. */
export function resolveConfig(flags: { apihost?: string; auth?: string }, env: NodeJS.ProcessEnv = process.env): CliConfig {
  const props = readWskprops(wskpropsPath(env));
  const apihost = flags.apihost ?? env.__OW_API_HOST ?? env.WHISK_APIHOST ?? props.APIHOST;
  const auth = flags.auth ?? env.__OW_API_KEY ?? env.WHISK_AUTH ?? props.AUTH;
  if (!apihost) throw new Error('The API host is not valid: set it with --apihost, __OW_API_HOST or `skywhisk property set --apihost`.');
  if (!auth) throw new Error('The API key is not valid: set it with --auth, __OW_API_KEY or `skywhisk property set --auth`.');
  return {
    apihost: /^https?:\/\//.test(apihost) ? apihost.replace(/\/+$/, '') : `https://${apihost}`,
    auth,
    namespace: env.__OW_NAMESPACE ?? env.WHISK_NAMESPACE ?? props.NAMESPACE ?? '_',
  };
}
