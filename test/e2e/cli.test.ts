import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// The `skywhisk` CLI as a user runs it (bin/skywhisk.js), configured only through the wskprops
// file the platform wrote at start.

const run = promisify(execFile);
const BIN = resolve(__dirname, '../../bin/skywhisk.js');
let env: TestPlatform;
const work = mkdtempSync(join(tmpdir(), 'skywhisk-cli-e2e-'));

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: work, WSK_CONFIG_FILE: env.platform.wskpropsFile },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
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
  expect(listed.stdout).toMatch(/^actions\n\/guest\/hello\s+private\s+nodejs:20\n$/);

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

test('an error from the API is printed and sets a non-zero exit code', async () => {
  await cli('action', 'create', 'twice', join(work, 'hello.js'));
  const again = await cli('action', 'create', 'twice', join(work, 'hello.js'));
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('resource already exists');
});

test('property set and get use WSK_CONFIG_FILE', async () => {
  const props = join(work, 'props');
  const set = await run(process.execPath, [BIN, 'property', 'set', '--apihost', 'http://127.0.0.1:1', '--auth', 'u:k'], {
    env: { PATH: process.env.PATH, HOME: work, WSK_CONFIG_FILE: props },
  });
  expect(set.stdout).toContain('ok: whisk API host set to http://127.0.0.1:1');
  const got = await run(process.execPath, [BIN, 'property', 'get', '--apihost'], { env: { PATH: process.env.PATH, HOME: work, WSK_CONFIG_FILE: props } });
  expect(got.stdout.trim()).toBe('whisk API host          http://127.0.0.1:1');
});
