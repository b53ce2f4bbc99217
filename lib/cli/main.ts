import { Command } from 'commander';
import { registerActionCommands } from './action-commands';
import { registerActivationCommands } from './activation-commands';
import { Api, ApiError } from './api';
import { resolveConfig } from './config';
import type { Output } from './output';
import { extractKeyValuePairs } from './params';
import { registerPropertyCommands } from './property-commands';

/** `skywhisk`: the wsk command grammar against a Skywhisk (or OpenWhisk) API host. */
export async function runCli(argv: string[]): Promise<void> {
  const pairs = extractKeyValuePairs(argv.slice(2));
  const program = new Command('skywhisk')
    .description('Skywhisk command line: the wsk grammar for actions, activations and properties')
    // Values are optional so that `property get --apihost` (a bare flag) parses as wsk's does.
    .option('--apihost [host]', 'whisk API host')
    .option('-u, --auth [key]', 'authorization key (uuid:key)')
    .option('-i, --insecure', 'bypass certificate checking')
    .option('--json', 'print JSON only')
    .showHelpAfterError();
  const globals = () => program.opts<{ apihost?: string | true; auth?: string | true; json?: boolean }>();
  const api = () => {
    const { apihost, auth } = globals();
    if (apihost === true || auth === true) throw new Error('--apihost and --auth need a value.');
    return new Api(resolveConfig({ apihost, auth }));
  };
  const out = (): Output => ({ json: Boolean(globals().json) });
  registerActionCommands(program, { api, out, pairs });
  registerActivationCommands(program, { api, out });
  registerPropertyCommands(program);
  try {
    await program.parseAsync(['node', 'skywhisk', ...pairs.argv]);
  } catch (error) {
    if (error instanceof ApiError) console.error(`error: ${error.message} (${error.status})`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = error instanceof ApiError && error.status === 502 ? 2 : 1;
  }
}

if (require.main === module) void runCli(process.argv);
