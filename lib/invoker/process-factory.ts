import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ActionContainer, CollectedLogs, ContainerFactory, ContainerSpec, RuntimeResponse } from './container';
import { ContainerGoneError } from './container';
import { LogCollector } from './log-collector';
import { newRuntimeToken, RUNTIME_TOKEN_ENV, RuntimeClient } from './runtime-client';

const RUNTIMES_DIR = resolve(__dirname, '../../runtimes');

/** The proxy that implements each kind's runtime protocol, run by the host's interpreter. */
function runtimeCommand(kind: string): { command: string; args: string[]; bind: string[] } {
  const family = kind.split(':')[0];
  if (family === 'nodejs') {
    const node = process.execPath;
    return { command: node, args: [join(RUNTIMES_DIR, 'nodejs', 'proxy.js')], bind: [dirname(dirname(node)), join(RUNTIMES_DIR, 'nodejs')] };
  }
  if (family === 'python') {
    // The system interpreter (under /usr, visible in the sandbox), not a user's pyenv shim.
    return { command: '/usr/bin/python3', args: [join(RUNTIMES_DIR, 'python', 'proxy.py')], bind: [join(RUNTIMES_DIR, 'python')] };
  }
  throw new Error(`The process factory has no runtime for kind '${kind}'.`);
}

/** Whether bubblewrap can build a sandbox here (it needs user namespaces or root). */
export function bubblewrapWorks(): boolean {
  const probe = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--die-with-parent', 'true'], { stdio: 'ignore', timeout: 5000 });
  return probe.status === 0;
}

/**
 * `--dir` for every ancestor of the bind targets: directories bwrap creates implicitly are not
 * traversable by the unprivileged action user.
 */
function ancestorDirs(paths: string[]): string[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) dirs.add(`/${parts.slice(0, i).join('/')}`);
  }
  return [...dirs].filter((d) => d !== '/usr' && !d.startsWith('/usr/')).sort().flatMap((d) => ['--perms', '0755', '--dir', d]);
}

/**
 * The sandbox's arguments. Its environment is not among them (no `--clearenv`/`--setenv`): bwrap is
 * spawned with exactly that environment instead, so the runtime token is not on a command line.
 */
function bwrapArgs(workDir: string, bind: string[]): string[] {
  const args = [
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--symlink', 'usr/sbin', '/sbin',
    // Directories bwrap makes for binds are not traversable by the unprivileged action user otherwise.
    '--perms', '0755', '--dir', '/etc',
    '--ro-bind-try', '/etc/resolv.conf', '/etc/resolv.conf',
    '--ro-bind-try', '/etc/hosts', '/etc/hosts',
    '--ro-bind-try', '/etc/ssl', '/etc/ssl',
    '--ro-bind-try', '/etc/ca-certificates', '/etc/ca-certificates',
    '--proc', '/proc',
    '--dev', '/dev',
    '--perms', '1777', '--tmpfs', '/tmp',
    ...ancestorDirs([workDir, ...bind]),
    '--bind', workDir, workDir,
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--hostname', 'action',
    '--die-with-parent', '--new-session',
    '--chdir', '/tmp',
  ];
  for (const dir of bind) if (!dir.startsWith('/usr/')) args.push('--ro-bind', dir, dir);
  return args;
}

/** The user action processes run as when the invoker is root (nobody). */
const ACTION_UID = 65534;

/**
 * The wrapper that starts a runtime: as root, drop to an unprivileged user (so action code cannot
 * read the invoker's environment or files) and have the kernel kill it if the invoker dies; as
 * another user, only the latter.
 */
function privilegeWrapper(): string[] {
  const dropUser = process.getuid?.() === 0 ? [`--reuid=${ACTION_UID}`, `--regid=${ACTION_UID}`, '--clear-groups'] : [];
  return ['setpriv', ...dropUser, '--pdeathsig=KILL', '--'];
}

class ProcessContainer implements ActionContainer {
  private readonly logs = new LogCollector();
  private readonly client: RuntimeClient;
  private exited = false;
  /** Settles when the process has exited, or never started (a spawn error emits no 'exit'). */
  private readonly ended: Promise<void>;

  constructor(
    readonly id: string,
    private readonly child: ChildProcess,
    private readonly workDir: string,
    socketPath: string,
    token: string,
  ) {
    this.client = new RuntimeClient({ socketPath }, token);
    this.logs.attach(child.stdout!, 'stdout');
    this.logs.attach(child.stderr!, 'stderr');
    this.ended = new Promise((resolve) => {
      const end = () => {
        this.exited = true;
        resolve();
      };
      child.once('exit', end);
      child.once('error', end);
    });
  }

  async init(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/init', payload, timeoutMs, true);
  }

  async run(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/run', payload, timeoutMs, false);
  }

  private async request(path: '/init' | '/run', payload: object, timeoutMs: number, retry: boolean): Promise<RuntimeResponse> {
    if (this.exited) throw new ContainerGoneError('the action process has exited');
    return this.client.post(path, payload, timeoutMs, retry, () => !this.exited);
  }

  collectLogs(limitBytes: number, waitMs: number): Promise<CollectedLogs> {
    return this.logs.collect(limitBytes, this.exited ? 0 : waitMs);
  }

  async destroy(): Promise<void> {
    this.client.close();
    if (!this.exited && this.child.pid !== undefined) this.child.kill('SIGKILL');
    await this.ended;
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/**
 * Runs each action container as a sandboxed process: the runtime proxy under bubblewrap (own pid,
 * ipc and uts namespaces, read-only system, private /tmp, no inherited environment), or as a plain
 * child process with a scrubbed environment where bubblewrap cannot run. It talks to the runtime
 * over a unix socket, so no ports are shared. This is what Fargate invokers use.
 */
export class ProcessContainerFactory implements ContainerFactory {
  readonly name = 'process' as const;
  private readonly root: string;
  private counter = 0;

  constructor(private readonly options: { sandbox: boolean; workRoot?: string; bwrapPath?: string }) {
    const base = options.workRoot ?? tmpdir();
    mkdirSync(base, { recursive: true });
    this.root = mkdtempSync(join(base, 'skywhisk-containers-'));
    // Traversable (not listable) by the unprivileged action user, who owns its own work dir.
    chmodSync(this.root, 0o711);
  }

  get sandboxed(): boolean {
    return this.options.sandbox;
  }

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    const id = `${process.pid}-${++this.counter}`;
    const workDir = join(this.root, id);
    mkdirSync(workDir, { recursive: true });
    // The runtime, running as the action user, creates its socket here.
    if (process.getuid?.() === 0) chownSync(workDir, ACTION_UID, ACTION_UID);
    const socketPath = join(workDir, 'runtime.sock');
    const token = newRuntimeToken();
    const runtime = runtimeCommand(spec.kind);
    const home = this.options.sandbox ? '/tmp' : workDir;
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      TMPDIR: home,
      NODE_OPTIONS: `--max-old-space-size=${spec.memoryMb}`,
      __OW_LISTEN: socketPath,
      ...spec.env,
      // Without bubblewrap another action can reach this socket: the runtime answers only this token.
      [RUNTIME_TOKEN_ENV]: token,
    };
    const [wrapper, ...wrapperArgs] = privilegeWrapper();
    const command = [wrapper, ...wrapperArgs, runtime.command, ...runtime.args];
    const child = this.options.sandbox
      ? spawn(this.options.bwrapPath ?? 'bwrap', [...bwrapArgs(workDir, runtime.bind), ...command], { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: workDir });
    return new ProcessContainer(id, child, workDir, socketPath, token);
  }

  /** Removes the work directories of every container this factory made. */
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
