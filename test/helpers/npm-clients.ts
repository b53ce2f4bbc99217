import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';

const run = promisify(execFile);
const MANIFESTS = resolve(__dirname, '../clients');
const LOOPBACK_GUARD = resolve(__dirname, 'loopback-only.cjs');

/**
 * A pinned third-party client of test/clients (one folder each, so that a project using one sees
 * only its own dependencies), installed once per lockfile into a cache outside the checkout (jest
 * would otherwise crawl hundreds of megabytes of them). Returns the directory whose node_modules
 * holds it. A half-finished install is never reused: it is built beside the cache entry and
 * renamed into place.
 */
export async function installedClient(name: 'serverless' | 'aio'): Promise<string> {
  const manifests = join(MANIFESTS, name);
  const lock = readFileSync(join(manifests, 'package-lock.json'));
  // Native packages differ by platform, so a cache shared across machines keys on it too.
  const key = `${name}-${process.platform}-${process.arch}-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`;
  const root = process.env.SKYWHISK_TEST_CLIENTS_CACHE ?? join(homedir(), '.cache', 'skywhisk', 'test-clients');
  const installed = join(root, key);
  if (existsSync(join(installed, '.complete'))) return installed;
  mkdirSync(root, { recursive: true });
  removeAbandonedBuilds(root, key);
  const building = mkdtempSync(join(root, `${key}.building-`));
  try {
    copyFileSync(join(manifests, 'package.json'), join(building, 'package.json'));
    copyFileSync(join(manifests, 'package-lock.json'), join(building, 'package-lock.json'));
    // Install scripts stay off: the clients' commands need none, and some would phone home.
    await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: building, maxBuffer: 64 * 1024 * 1024 });
    writeFileSync(join(building, '.complete'), new Date().toISOString());
    // Only complete builds are ever renamed into place, so an existing entry is another run's
    // finished install: keep it (that run may be running from it) and drop this one.
    try {
      renameSync(building, installed);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      // An entry without the marker is not a finished install (an older helper could leave one).
      if (!existsSync(join(installed, '.complete'))) throw new Error(`${installed} exists but is no finished install: remove it and run again`, { cause: error });
    }
  } catch (error) {
    if (!existsSync(join(installed, '.complete'))) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return installed;
}

/** Build folders of this key left by an install that died, a day old or more. */
function removeAbandonedBuilds(root: string, key: string): void {
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(`${key}.building-`)) continue;
    const path = join(root, entry);
    try {
      if (Date.now() - statSync(path).mtimeMs > 86_400_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another run finished or removed it meanwhile.
    }
  }
}

export interface ClientRun {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a client's Node entry point with nothing of this process's environment but PATH and what
 * `env` gives, a fresh HOME, its output without terminal colours, and the loopback guard preloaded into it and every Node process it
 * starts: a connection anywhere but loopback fails and is written to `blockedLog`.
 */
export class ClientSandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'skywhisk-client-home-'));
  readonly blockedLog = join(this.home, 'blocked-connections.log');

  constructor(private readonly env: Record<string, string>) {}

  async run(entry: string, args: string[], cwd: string): Promise<ClientRun> {
    const env = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: this.home,
      NODE_OPTIONS: `--require ${LOOPBACK_GUARD}`,
      SKYWHISK_BLOCKED_CONNECTIONS_LOG: this.blockedLog,
      NPM_CONFIG_UPDATE_NOTIFIER: 'false',
      ...this.env,
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [entry, ...args], { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 });
      return { stdout: stripVTControlCharacters(stdout), stderr: stripVTControlCharacters(stderr), code: 0 };
    } catch (error) {
      const failed = error as ClientRun & { code: number | string };
      const stdout = stripVTControlCharacters(failed.stdout ?? '');
      return { stdout, stderr: stripVTControlCharacters(failed.stderr ?? String(error)), code: typeof failed.code === 'number' ? failed.code : 1 };
    }
  }

  /** Every non-loopback destination a client tried, one per line. */
  blockedConnections(): string[] {
    return existsSync(this.blockedLog) ? readFileSync(this.blockedLog, 'utf8').split('\n').filter(Boolean) : [];
  }
}
