import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

// An invoker that cannot keep tenants apart (no bubblewrap, not root: every action would run as
// the invoker's own user and could read the others) refuses to start, unless the operator says
// that everything it runs belongs to one tenant; then it says so.

const root = process.getuid?.() === 0;

function factoryAsUnprivilegedUser(env: Record<string, string>): { status: number | null; out: string } {
  const home = mkdtempSync(join(tmpdir(), 'skywhisk-single-tenant-'));
  chmodSync(home, 0o777);
  const script = `require('./lib/invoker/factory').createContainerFactory(process.env, 'solo')
    .then((f) => { console.log('DESCRIBE ' + f.describe); f.dispose(); })
    .catch((e) => { console.log('REFUSED ' + e.message); process.exit(3); });`;
  const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', script], {
    cwd: resolve(__dirname, '../..'),
    env: { PATH: process.env.PATH ?? '', HOME: home, TMPDIR: home, SKYWHISK_CONTAINER_FACTORY: 'process', SKYWHISK_SANDBOX: 'none', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  rmSync(home, { recursive: true, force: true });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

(root ? test : test.skip)('without bubblewrap and without root, the invoker refuses to run actions', () => {
  const { status, out } = factoryAsUnprivilegedUser({});
  expect(status).toBe(3);
  expect(out).toContain('REFUSED Refusing to run actions');
  expect(out).toContain('SKYWHISK_SINGLE_TENANT=true');
});

(root ? test : test.skip)('with SKYWHISK_SINGLE_TENANT=true it runs, and its description says actions are not isolated', () => {
  const { status, out } = factoryAsUnprivilegedUser({ SKYWHISK_SINGLE_TENANT: 'true' });
  expect(status).toBe(0);
  expect(out).toContain('DESCRIBE process (single-tenant: actions are not isolated from each other)');
});
