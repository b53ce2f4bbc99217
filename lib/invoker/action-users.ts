import { readdirSync, readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';

/**
 * The reserved range action containers' users come from: no account on a host is expected there,
 * and each container gets its own, so one tenant's processes cannot signal, trace, read the files
 * or use up the process limit of another's.
 */
export const ACTION_UID_RANGE = { first: 2_000_000, size: 1_000_000 } as const;

/** Users that own a running process on this host (other invokers' containers included). */
export function usersWithProcesses(procDir = '/proc'): Set<number> {
  const users = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync(procDir);
  } catch {
    return users;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`${procDir}/${entry}/status`, 'utf8');
      const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      if (uid !== undefined) users.add(Number(uid));
    } catch {
      // the process ended while we looked
    }
  }
  return users;
}

/**
 * Hands out a distinct unprivileged uid per container: chosen at random in the reserved range, so
 * two invokers on one host rarely try the same one, and never one that a live process already has.
 */
export class ActionUsers {
  private readonly held = new Set<number>();

  constructor(
    private readonly range: { first: number; size: number } = ACTION_UID_RANGE,
    private readonly busy: () => Set<number> = usersWithProcesses,
  ) {}

  allocate(): number {
    const busy = this.busy();
    for (let attempt = 0; attempt < 1000; attempt++) {
      const uid = this.range.first + randomInt(this.range.size);
      if (!this.held.has(uid) && !busy.has(uid)) {
        this.held.add(uid);
        return uid;
      }
    }
    throw new Error('no free action user in the reserved uid range');
  }

  release(uid: number): void {
    this.held.delete(uid);
  }

  get inUse(): number {
    return this.held.size;
  }
}
