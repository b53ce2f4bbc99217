import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/skywhisk.js');

export interface CliRun {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs the `skywhisk` CLI as a user does (bin/skywhisk.js), configured only by `wskpropsFile`,
 * with `home` as its HOME (and `cwd` as its directory, when given); a failing command is a result with its exit code, not a throw.
 */
export async function runCli(home: string, wskpropsFile: string, args: string[], cwd?: string): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, HOME: home, WSK_CONFIG_FILE: wskpropsFile } });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as CliRun;
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}
