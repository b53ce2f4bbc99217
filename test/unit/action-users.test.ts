import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActionUsers, usersWithProcesses } from '../../lib/invoker/action-users';

test('every container gets a user of its own, inside the reserved range', () => {
  const users = new ActionUsers({ first: 5000, size: 40 }, () => new Set());
  const given = Array.from({ length: 40 }, () => users.allocate());
  expect(new Set(given).size).toBe(40);
  for (const uid of given) expect(uid >= 5000 && uid < 5040).toBe(true);
  // The range is used up until one is given back.
  expect(() => users.allocate()).toThrow(/no free action user/);
  users.release(given[7]);
  expect(users.allocate()).toBe(given[7]);
});

test('a user that a live process already has (another invoker’s container) is never handed out', () => {
  const users = new ActionUsers({ first: 7000, size: 3 }, () => new Set([7000, 7002]));
  expect(users.allocate()).toBe(7001);
  expect(() => users.allocate()).toThrow(/no free action user/);
});

test('the users of running processes are read from /proc', () => {
  const proc = mkdtempSync(join(tmpdir(), 'skywhisk-proc-'));
  for (const [pid, uid] of [['12', 2000001], ['13', 0]] as const) {
    mkdirSync(join(proc, pid));
    writeFileSync(join(proc, pid, 'status'), `Name:\tnode\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
  }
  mkdirSync(join(proc, 'self'));
  expect(usersWithProcesses(proc)).toEqual(new Set([2000001, 0]));
  rmSync(proc, { recursive: true, force: true });
  expect(usersWithProcesses('/proc').has(process.getuid!())).toBe(true);
});
