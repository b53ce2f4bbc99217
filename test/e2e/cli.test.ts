import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// The `skywhisk` CLI as a user runs it (bin/skywhisk.js), configured only through the wskprops
// file the platform wrote at start.

let env: TestPlatform;
const work = mkdtempSync(join(tmpdir(), 'skywhisk-cli-e2e-'));

function cli(...args: string[]): Promise<CliRun> {
  return runCli(work, env.platform.wskpropsFile, args);
}

beforeAll(async () => {
  env = await startTestPlatform();
  writeFileSync(join(work, 'hello.js'), "function main(params) { console.log('log line'); return { greeting: 'Hello ' + params.name }; }\n");
});

afterAll(async () => {
  await env?.stop();
});

test('create, invoke with -r and -p, list, and read the activation back', async () => {
  expect(await cli('action', 'create', 'hello', join(work, 'hello.js'))).toMatchObject({ code: 0, stdout: 'ok: created action hello\n' });

  const invoked = await cli('action', 'invoke', 'hello', '-r', '-p', 'name', 'World');
  expect(invoked.code).toBe(0);
  expect(JSON.parse(invoked.stdout)).toEqual({ greeting: 'Hello World' });

  const listed = await cli('action', 'list');
  expect(listed.stdout).toMatch(/^actions\n\/guest\/hello\s+private\s+nodejs:22\n$/);

  const accepted = await cli('action', 'invoke', 'hello', '-p', 'name', 'Later');
  const id = /with id ([0-9a-f]{32})/.exec(accepted.stdout)?.[1];
  expect(id).toBeDefined();
  let result: { code: number; stdout: string } = { code: 1, stdout: '' };
  for (let i = 0; i < 50 && result.code !== 0; i++) {
    result = await cli('activation', 'result', id!);
    if (result.code !== 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(JSON.parse(result.stdout)).toMatchObject({ success: true, result: { greeting: 'Hello Later' } });
  expect((await cli('activation', 'logs', id!)).stdout).toMatch(/stdout: log line\n$/);
  expect((await cli('activation', 'list', '--limit', '1')).stdout).toContain(id!);
  expect(JSON.parse((await cli('--json', 'activation', 'get', id!)).stdout)).toMatchObject({ activationId: id, name: 'hello' });
});

test('create flags set kind, main, limits and parameters; -b prints the record', async () => {
  writeFileSync(join(work, 'entry.js'), 'function entry(p) { return { a: p.a, b: p.b, c: p.c }; }\n');
  writeFileSync(join(work, 'params.json'), JSON.stringify({ a: 'from-file', b: 'from-file' }));
  const created = await cli(
    'action', 'create', 'flags', join(work, 'entry.js'),
    '--kind', 'nodejs:20', '--main', 'entry', '-t', '5000', '-m', '128', '-P', join(work, 'params.json'), '-p', 'b', 'from-flag',
  );
  expect(created.code).toBe(0);
  const action = JSON.parse((await cli('--json', 'action', 'get', 'flags')).stdout);
  expect(action.exec).toMatchObject({ kind: 'nodejs:20', main: 'entry' });
  expect(action.limits).toMatchObject({ timeout: 5000, memory: 128 });
  expect(action.parameters).toEqual(expect.arrayContaining([{ key: 'a', value: 'from-file' }, { key: 'b', value: 'from-flag' }]));
  const blocking = await cli('action', 'invoke', 'flags', '-b', '-p', 'c', '3');
  expect(blocking.stdout).toMatch(/^ok: invoked \/flags with id [0-9a-f]{32}\n/);
  const record = JSON.parse(blocking.stdout.slice(blocking.stdout.indexOf('\n') + 1));
  expect(record.response.result).toEqual({ a: 'from-file', b: 'from-flag', c: 3 });
});

test('a blocking invoke of an action returning an array names its id and prints the array', async () => {
  writeFileSync(join(work, 'pair.js'), 'function main() { return ["left", "right"]; }');
  expect((await cli('action', 'create', 'pair', join(work, 'pair.js'))).code).toBe(0);
  const blocking = await cli('action', 'invoke', 'pair', '-b');
  expect(blocking.stdout).toMatch(/^ok: invoked \/pair with id [0-9a-f]{32}\n/);
  expect(JSON.parse(blocking.stdout.slice(blocking.stdout.indexOf('\n') + 1))).toEqual(['left', 'right']);
});

test('an error from the API is printed and sets a non-zero exit code', async () => {
  await cli('action', 'create', 'twice', join(work, 'hello.js'));
  const again = await cli('action', 'create', 'twice', join(work, 'hello.js'));
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('resource already exists');
});

test('property set and get use WSK_CONFIG_FILE', async () => {
  const props = join(work, 'props');
  const set = await runCli(work, props, ['property', 'set', '--apihost', 'http://127.0.0.1:1', '--auth', 'u:k']);
  expect(set.stdout).toContain('ok: whisk API host set to http://127.0.0.1:1');
  const got = await runCli(work, props, ['property', 'get', '--apihost']);
  expect(got.stdout.trim()).toBe('whisk API host          http://127.0.0.1:1');
});
