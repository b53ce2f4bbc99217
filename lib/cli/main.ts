import { Command } from 'commander';
import { registerActionCommands } from './action-commands';
import { registerApiCommands } from './api-commands';
import { registerAdminCommands } from './admin-commands';
import { registerActivationCommands } from './activation-commands';
import { Api, ApiError } from './api';
import { resolveConfig } from './config';
import type { Output } from './output';
import { registerNamespaceCommands } from './namespace-commands';
import { registerPackageCommands } from './package-commands';
import { extractKeyValuePairs } from './params';
import { registerPropertyCommands } from './property-commands';
import { registerRuleCommands } from './rule-commands';
import { registerTriggerCommands } from './trigger-commands';

/** `skywhisk`: the wsk command grammar against a Skywhisk (or OpenWhisk) API host. */
export async function runCli(argv: string[]): Promise<void> {
  const pairs = extractKeyValuePairs(argv.slice(2));
  const program = new Command('skywhisk')
    .description('Skywhisk command line: the wsk grammar for actions, activations, triggers, rules, packages, APIs, namespaces and properties')
    // Values are optional so that `property get --apihost` (a bare flag) parses as wsk's does.
    .option('--apihost [host]', 'whisk API host')
    .option('-u, --auth [key]', 'authorization key (uuid:key)')
    .option('-i, --insecure', 'bypass certificate checking')
    .option('--json', 'print JSON only')
    .showHelpAfterError();
  const globals = () => program.opts<{ apihost?: string | true; auth?: string | true; json?: boolean }>();
  let client: Api | undefined;
  // One client per run (it remembers the resolved namespace), made once the flags are parsed.
  const api = () => {
    const { apihost, auth } = globals();
    if (apihost === true || auth === true) throw new Error('--apihost and --auth need a value.');
    client ??= new Api(resolveConfig({ apihost, auth }));
    return client;
  };
  const out = (): Output => ({ json: Boolean(globals().json) });
  const ctx = { api, out, pairs };
  registerActionCommands(program, ctx);
  registerActivationCommands(program, ctx);
  registerTriggerCommands(program, ctx);
  registerRuleCommands(program, ctx);
  registerPackageCommands(program, ctx);
  registerNamespaceCommands(program, ctx);
  registerApiCommands(program, ctx);
  registerPropertyCommands(program);
  registerAdminCommands(program);
  try {
    await program.parseAsync(['node', 'skywhisk', ...pairs.argv]);
  } catch (error) {
    if (error instanceof ApiError) console.error(`error: ${error.message} (${error.status})`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = error instanceof ApiError && error.status === 502 ? 2 : 1;
  }
}

if (require.main === module) void runCli(process.argv);
