import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The limits one action container gets from the kernel. */
export interface ContainerLimits {
  memoryMb: number;
  pids: number;
  /** CPU shares relative to other containers (Docker's and OpenWhisk's 1024 per 256 MB idea). */
  cpuShares: number;
  /** At most this many CPUs' worth of time (CFS quota), so one action cannot take the host. */
  cpus: number;
}

const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/**
 * Per-container cgroups (v1, as ECS-optimised and this project's hosts have them): a directory
 * under `skywhisk/<group>` in the memory, pids and cpu hierarchies. The container's first process
 * joins them before it executes anything (see `joinCommand`), so every descendant is counted.
 */
export class CgroupsV1 {
  constructor(
    private readonly group: string,
    private readonly root = '/sys/fs/cgroup',
  ) {}

  /** Whether this process may create cgroups here (root, with the three controllers mounted). */
  static available(root = '/sys/fs/cgroup'): boolean {
    try {
      for (const controller of CONTROLLERS) accessSync(join(root, controller), constants.W_OK);
      return existsSync(join(root, 'memory', 'memory.limit_in_bytes'));
    } catch {
      return false;
    }
  }

  private dir(controller: (typeof CONTROLLERS)[number], id: string): string {
    return join(this.root, controller, 'skywhisk', this.group, id);
  }

  /** Creates the container's cgroups with its limits; returns the `tasks` files to join. */
  create(id: string, limits: ContainerLimits): string[] {
    const bytes = String(limits.memoryMb * 1024 * 1024);
    const memory = this.dir('memory', id);
    mkdirSync(memory, { recursive: true });
    writeFileSync(join(memory, 'memory.limit_in_bytes'), bytes);
    // Swap counts too, where the kernel accounts it, as Docker's MemorySwap = Memory does.
    if (existsSync(join(memory, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    const pids = this.dir('pids', id);
    mkdirSync(pids, { recursive: true });
    writeFileSync(join(pids, 'pids.max'), String(limits.pids));
    const cpu = this.dir('cpu', id);
    mkdirSync(cpu, { recursive: true });
    writeFileSync(join(cpu, 'cpu.shares'), String(Math.max(2, Math.round(limits.cpuShares))));
    const period = Number(readFileSync(join(cpu, 'cpu.cfs_period_us'), 'utf8'));
    writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(Math.round(period * limits.cpus)));
    return CONTROLLERS.map((controller) => join(this.dir(controller, id), 'cgroup.procs'));
  }

  /** Whether the kernel killed a process of this container for its memory limit. */
  oomKilled(id: string): boolean {
    try {
      const events = readFileSync(join(this.dir('memory', id), 'memory.oom_control'), 'utf8');
      return /^oom_kill [1-9]/m.test(events);
    } catch {
      return false;
    }
  }

  /** Removes the container's cgroups (they must be empty: its processes have exited). */
  remove(id: string): void {
    for (const controller of CONTROLLERS) {
      try {
        rmdirSync(this.dir(controller, id));
      } catch {
        // already gone, or a process is still exiting: the next start's sweep takes it
      }
    }
  }
}

/**
 * A shell prefix that moves itself into the cgroups and then executes the command, so nothing
 * of the container ever runs outside its limits.
 */
export function joinCommand(procsFiles: string[], command: string[]): string[] {
  const joins = procsFiles.map((_, i) => `echo $$ > "$${i + 1}"`).join(' && ');
  const n = procsFiles.length;
  return ['/bin/sh', '-c', `${joins} && shift ${n} && exec "$@"`, 'skywhisk-cgroup', ...procsFiles, ...command];
}
