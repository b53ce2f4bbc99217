import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ActionContainer, CollectedLogs, ContainerFactory, ContainerSpec, RuntimeResponse } from './container';
import { ContainerGoneError, scratchBytes, UnrunnableActionError } from './container';
import { LogCollector } from './log-collector';
import { RUNTIME_TOKEN_FILE_ENV, RuntimeClient, WARM_UP_TIMEOUT_MS, writeRuntimeToken, type RuntimePath } from './runtime-client';
import { ActionUsers } from './action-users';
import { PROCESS_MODE_RUNS_NO_IMAGES, processModeRunsNoKind, resolveKind } from '../model/runtimes';
import { CgroupsV1, joinCommand } from './cgroups';

const RUNTIMES_DIR = resolve(__dirname, '../../runtimes');

/** What a blackbox or native action's record says where actions run as processes. */

/** The proxy that implements each kind's runtime protocol, run by the host's interpreter. */
function runtimeCommand(kind: string): { command: string; args: string[]; bind: string[]; env?: Record<string, string> } {
  // A manifest kind on one of our images runs that image's runtime, whatever the kind is called.
  const family = (resolveKind(kind)?.builtin ?? kind).split(':')[0];
  if (family === 'nodejs') {
    const node = process.execPath;
    // The libraries the nodejs images preinstall, where `npm ci` (postinstall) put them beside the proxy.
    const libraries = join(RUNTIMES_DIR, 'nodejs', 'node_modules');
    const env = existsSync(libraries) ? { NODE_PATH: libraries } : undefined;
    return { command: node, args: [join(RUNTIMES_DIR, 'nodejs', 'proxy.js')], bind: [dirname(dirname(node)), join(RUNTIMES_DIR, 'nodejs')], env };
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
function bwrapArgs(workDir: string, bind: string[], tmpBytes: number): string[] {
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
    '--perms', '1777', '--size', String(tmpBytes), '--tmpfs', '/tmp',
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


/** Per-container limits the kernel enforces without cgroups (prlimit): processes, file size, descriptors, no core dumps. */
const PROCESS_LIMITS = { nproc: 1024, nofile: 1024, fsizeBytes: 64 * 1024 * 1024 } as const;

const isRoot = () => process.getuid?.() === 0;

/** Mounts a tmpfs of `bytes` owned by `uid` (mode 0700) on `dir`; false where mounting is not allowed. */
function mountTmpfs(dir: string, bytes: number, uid: number): boolean {
  const options = `size=${bytes},mode=0700,uid=${uid},gid=${uid},nosuid,nodev`;
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'skywhisk-action', dir], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir], { stdio: 'ignore', timeout: 5000 });
}

/**
 * Without bubblewrap, a pid namespace of its own (with its own /proc) by util-linux `unshare`,
 * killed with its parent; it needs root with CAP_SYS_ADMIN (not in Fargate).
 */
const UNSHARE_PID = ['setpriv', '--pdeathsig=KILL', '--', 'unshare', '--pid', '--fork', '--kill-child', '--mount-proc', '--ipc', '--uts', '--'];

function unshareWorks(): boolean {
  return spawnSync(UNSHARE_PID[3], [...UNSHARE_PID.slice(4), 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0;
}

/** World-writable directories every process on the host can write to. */
const SHARED_SCRATCH_DIRS = ['/tmp', '/var/tmp', '/dev/shm'];

/** Removes the entries of `dirs` that `uid` owns (a container's user is never reused while it lives). */
export function removeOwnedBy(uid: number, dirs: string[]): void {
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      try {
        if (lstatSync(path).uid === uid) rmSync(path, { recursive: true, force: true });
      } catch {
        // gone already
      }
    }
  }
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN; not in Fargate). */
function canMountTmpfs(root: string): boolean {
  const probe = join(root, 'mount-probe');
  mkdirSync(probe);
  const ok = mountTmpfs(probe, 1024 * 1024, 0);
  if (ok) unmount(probe);
  rmSync(probe, { recursive: true, force: true });
  return ok;
}

/**
 * The wrapper that starts a runtime: process limits, then, as root, a drop to the container's own
 * unprivileged user (so action code can read neither the invoker's nor another container's
 * environment, memory or files), and a kill by the kernel if its parent dies.
 */
function privilegeWrapper(uid: number | undefined): string[] {
  const limits = [
    'prlimit',
    `--nofile=${PROCESS_LIMITS.nofile}`,
    `--fsize=${PROCESS_LIMITS.fsizeBytes}`,
    '--core=0',
    // Counted per user: meaningful only when each container has a user of its own.
    ...(uid !== undefined ? [`--nproc=${PROCESS_LIMITS.nproc}`] : []),
    '--',
  ];
  const dropUser = uid !== undefined ? [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'] : [];
  return [...limits, 'setpriv', ...dropUser, '--pdeathsig=KILL', '--'];
}

/** How a process factory separates tenants here, as operators see it in logs and `GET /invokers/details`. */
export interface ProcessIsolation {
  /** bubblewrap: own pid, ipc, uts and mount namespaces with a read-only system and a sized /tmp. */
  sandbox: boolean;
  /** A distinct unprivileged uid per container (the invoker is root). */
  userPerContainer: boolean;
  /** Its own pid namespace and /proc: bubblewrap's, or `unshare`'s without it. */
  pidNamespace: boolean;
  /** Memory, pids and CPU limits per container in cgroups (v1). */
  cgroups: boolean;
  /** The work directory (socket, HOME, TMPDIR) is a tmpfs of a fixed size, so no action fills the host's disk. */
  sizedWorkDir: boolean;
}

/** Whether actions of different tenants are kept apart: by namespaces, or by users of their own. */
export function isolatesTenants(isolation: ProcessIsolation): boolean {
  return isolation.sandbox || isolation.userPerContainer;
}

export function describeIsolation(isolation: ProcessIsolation): string {
  if (!isolatesTenants(isolation)) return 'process (single-tenant: actions are not isolated from each other)';
  const parts = [isolation.sandbox ? 'bubblewrap sandbox' : isolation.pidNamespace ? 'no sandbox, a pid namespace' : 'no sandbox'];
  if (isolation.userPerContainer) parts.push('a user per container');
  parts.push(isolation.cgroups ? 'cgroup limits' : 'no memory or CPU limits');
  if (isolation.sizedWorkDir) parts.push(isolation.cgroups ? 'a work directory sized to its memory (64 MB at least)' : 'a 64 MB work directory');
  return `process (${parts.join(', ')})`;
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
    socketPath: string,
    token: string,
    private readonly release: () => void,
    private readonly outOfMemory: () => boolean,
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

  onExit(listener: () => void): void {
    void this.ended.then(listener);
  }

  /** Any answer will do: the connection and the runtime's code paths are warm. */
  async warmUp(): Promise<boolean> {
    return (await this.request('/warmup', {}, WARM_UP_TIMEOUT_MS, true)).statusCode === 200;
  }

  private async request(path: RuntimePath, payload: object, timeoutMs: number, retry: boolean): Promise<RuntimeResponse> {
    if (this.exited) throw new ContainerGoneError('the action process has exited');
    return this.client.post(path, payload, timeoutMs, retry, () => !this.exited);
  }

  collectLogs(limitBytes: number, waitMs: number): Promise<CollectedLogs> {
    return this.logs.collect(limitBytes, this.exited ? 0 : waitMs);
  }

  async oomKilled(): Promise<boolean> {
    await Promise.race([this.ended, new Promise((r) => setTimeout(r, 1000))]);
    return this.outOfMemory();
  }

  async destroy(): Promise<void> {
    this.client.close();
    if (!this.exited && this.child.pid !== undefined) this.child.kill('SIGKILL');
    await this.ended;
    this.release();
  }
}

export interface ProcessFactoryOptions {
  /** bubblewrap around every runtime. */
  sandbox: boolean;
  workRoot?: string;
  bwrapPath?: string;
  /** Names this invoker's cgroups (`skywhisk/<group>/<container>`). */
  group?: string;
}

/**
 * Runs each action container as a sandboxed process: the runtime proxy under bubblewrap (own pid,
 * ipc, uts and mount namespaces, read-only system, a sized private /tmp, no inherited environment)
 * where it works, else (as root) in a pid namespace of its own by `unshare`; as root, under a user
 * of its own with its work directory (a 64 MB tmpfs) closed to others; in
 * cgroups for memory, processes and CPU where they can be made; and with process limits always.
 * It talks to the runtime over a unix socket in the container's work directory, so no ports are
 * shared. This is what Fargate invokers use.
 */
export class ProcessContainerFactory implements ContainerFactory {
  readonly name = 'process' as const;
  readonly isolation: ProcessIsolation;
  private readonly root: string;
  private readonly users = new ActionUsers();
  private readonly cgroups: CgroupsV1 | undefined;
  private counter = 0;

  constructor(private readonly options: ProcessFactoryOptions) {
    const base = options.workRoot ?? tmpdir();
    mkdirSync(base, { recursive: true });
    this.root = mkdtempSync(join(base, 'skywhisk-containers-'));
    // Traversable (not listable) by the action users, each of whom owns only its own work dir.
    chmodSync(this.root, 0o711);
    const useCgroups = isRoot() && CgroupsV1.available();
    this.cgroups = useCgroups ? new CgroupsV1(`${options.group ?? 'invoker'}-${process.pid}`) : undefined;
    this.isolation = {
      sandbox: options.sandbox,
      userPerContainer: isRoot(),
      pidNamespace: options.sandbox || (isRoot() && unshareWorks()),
      cgroups: useCgroups,
      sizedWorkDir: isRoot() && canMountTmpfs(this.root),
    };
  }

  /**
   * Scratch space sized to the action's memory only where a memory cgroup charges its pages to the
   * action; without one, tmpfs is the host's RAM, so it stays at 64 MB.
   */
  private scratchBytes(memoryMb: number): number {
    return this.isolation.cgroups ? scratchBytes(memoryMb) : scratchBytes(0);
  }

  get sandboxed(): boolean {
    return this.options.sandbox;
  }

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    if (spec.image !== undefined) throw new UnrunnableActionError(PROCESS_MODE_RUNS_NO_IMAGES);
    if (resolveKind(spec.kind)?.protocol === 'openwhisk') throw new UnrunnableActionError(processModeRunsNoKind(spec.kind));
    const id = `${process.pid}-${++this.counter}`;
    const workDir = join(this.root, id);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    const uid = this.isolation.userPerContainer ? this.users.allocate() : undefined;
    let mounted = false;
    const release = () => {
      if (mounted) unmount(workDir);
      rmSync(workDir, { recursive: true, force: true });
      // Outside a sandbox the host's shared scratch directories are writable: take back what it left.
      if (uid !== undefined && !this.options.sandbox) removeOwnedBy(uid, SHARED_SCRATCH_DIRS);
      if (uid !== undefined) this.users.release(uid);
      this.cgroups?.remove(id);
    };
    try {
      if (this.isolation.sizedWorkDir && uid !== undefined) mounted = mountTmpfs(workDir, this.scratchBytes(spec.memoryMb), uid);
      const cgroupFiles = this.cgroups?.create(id, { memoryMb: spec.memoryMb, pids: PROCESS_LIMITS.nproc, cpuShares: (1024 * spec.memoryMb) / 256, cpus: 1 });
      // The runtime, running as the container's user, creates its socket here.
      if (uid !== undefined && !mounted) chownSync(workDir, uid, uid);
      const tokenFile = join(workDir, 'runtime-token');
      const token = writeRuntimeToken(tokenFile, uid);
      const socketPath = join(workDir, 'runtime.sock');
      const runtime = runtimeCommand(spec.kind);
      const home = this.options.sandbox ? '/tmp' : workDir;
      const env: Record<string, string> = {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: home,
        TMPDIR: home,
        NODE_OPTIONS: `--max-old-space-size=${spec.memoryMb}`,
        __OW_LISTEN: socketPath,
        ...runtime.env,
        ...spec.env,
        [RUNTIME_TOKEN_FILE_ENV]: tokenFile,
      };
      const inner = [...privilegeWrapper(uid), runtime.command, ...runtime.args];
      const sandboxed = this.options.sandbox
        ? [this.options.bwrapPath ?? 'bwrap', ...bwrapArgs(workDir, runtime.bind, this.scratchBytes(spec.memoryMb)), ...inner]
        : this.isolation.pidNamespace
          ? [...UNSHARE_PID, ...inner]
          : inner;
      // Into its cgroups before anything of the container runs.
      const command = cgroupFiles ? joinCommand(cgroupFiles, sandboxed) : sandboxed;
      const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: workDir });
      return new ProcessContainer(id, child, socketPath, token, release, () => (this.cgroups ? this.cgroups.oomKilled(id) : false));
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Removes the work directories of every container this factory made. */
  dispose(): void {
    for (const entry of readdirSync(this.root)) unmount(join(this.root, entry));
    rmSync(this.root, { recursive: true, force: true });
  }
}
