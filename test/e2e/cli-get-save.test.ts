import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { codeExtension } from '../../lib/cli/action-commands';
import { strippedLogLine } from '../../lib/cli/activation-commands';

// wsk flags migrating users reach for: `action get --url`, `--save`, `--save-as`,
// `activation logs --strip`, `-A`, `--del-annotation` and `trigger create -F`.

let env: TestPlatform;
const work = mkdtempSync(join(tmpdir(), 'skywhisk-cli-get-'));
const CODE = "function main(p) { console.log('line one'); console.error('line two'); return { ok: true }; }\n";

async function cli(...args: string[]): Promise<CliRun> {
  // In the work directory: --save writes there.
  return runCli(work, env.platform.wskpropsFile, args, work);
}

beforeAll(async () => {
  env = await startTestPlatform();
  writeFileSync(join(work, 'src.js'), CODE);
  expect((await cli('action', 'create', 'plain', join(work, 'src.js'))).code).toBe(0);
  expect((await cli('action', 'create', 'webby', join(work, 'src.js'), '--web', 'true')).code).toBe(0);
  expect((await cli('package', 'create', 'tools')).code).toBe(0);
  expect((await cli('action', 'create', 'tools/inner', join(work, 'src.js'), '--web', 'true')).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

test.each([
  ['a plain action has its REST URL', 'plain', '/api/v1/namespaces/guest/actions/plain'],
  ['a web action has its web URL', 'webby', '/api/v1/web/guest/default/webby'],
  ['a web action in a package names the package', 'tools/inner', '/api/v1/web/guest/tools/inner'],
])('action get --url: %s', async (_title, name, path) => {
  const got = await cli('action', 'get', name, '--url');
  expect(got.stdout).toBe(`ok: got action ${name}\n${env.platform.apiHost}${path}\n`);
});

test('the web URL --url prints answers', async () => {
  const url = (await cli('action', 'get', 'webby', '--url')).stdout.trim().split('\n')[1];
  const answer = await fetch(`${url}.json`);
  expect(await answer.json()).toEqual({ ok: true });
});

test('action get --save writes the code next to the caller, once', async () => {
  const saved = await cli('action', 'get', 'plain', '--save');
  expect(saved.stdout).toMatch(/^ok: saved action code to (.*plain\.js)\n$/);
  const file = /saved action code to (.*)\n/.exec(saved.stdout)![1];
  expect(file).toBe(join(realpathSync(work), 'plain.js'));
  expect(readFileSync(file, 'utf8')).toBe(CODE);
  const again = await cli('action', 'get', 'plain', '--save');
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('already exists');
});

test('action get --save-as writes where it is told', async () => {
  const target = join(work, 'copy.js');
  expect((await cli('action', 'get', 'webby', '--save-as', target)).stdout).toBe(`ok: saved action code to ${target}\n`);
  expect(existsSync(target) && readFileSync(target, 'utf8')).toBe(CODE);
});

test('activation logs --strip prints only the messages', async () => {
  const invoked = await cli('action', 'invoke', 'plain', '-b');
  const id = /with id ([0-9a-f]{32})/.exec(invoked.stdout)?.[1];
  expect(id).toBeDefined();
  expect((await cli('activation', 'logs', id!, '--strip')).stdout).toBe('line one\nline two\n');
  expect((await cli('activation', 'logs', id!)).stdout).toMatch(/^\S+\s+stdout: line one\n\S+\s+stderr: line two\n$/);
});

test('-A sets annotations from a file and --del-annotation removes them on update', async () => {
  writeFileSync(join(work, 'annotations.json'), JSON.stringify({ description: 'greets', team: 'web' }));
  expect((await cli('action', 'update', 'plain', '-A', join(work, 'annotations.json'))).code).toBe(0);
  const annotationsOf = async () => {
    const action = JSON.parse((await cli('--json', 'action', 'get', 'plain')).stdout) as { annotations: Array<{ key: string; value: unknown }> };
    return Object.fromEntries(action.annotations.map((a) => [a.key, a.value]));
  };
  expect(await annotationsOf()).toMatchObject({ description: 'greets', team: 'web' });
  expect((await cli('action', 'update', 'plain', '--del-annotation', 'team')).code).toBe(0);
  const after = await annotationsOf();
  expect(after).toMatchObject({ description: 'greets' });
  expect(after).not.toHaveProperty('team');
  expect((await cli('trigger', 'create', 'tagged', '-A', join(work, 'annotations.json'))).code).toBe(0);
  expect((await cli('trigger', 'update', 'tagged', '--del-annotation', 'description')).code).toBe(0);
  const trigger = JSON.parse((await cli('--json', 'trigger', 'get', 'tagged')).stdout) as { annotations: Array<{ key: string }> };
  expect(trigger.annotations.map((a) => a.key)).toEqual(['team']);
});

test("trigger create -F gives the feed its parameters from a file, and only a feed trigger takes one", async () => {
  writeFileSync(join(work, 'feed.json'), JSON.stringify({ minutes: 5 }));
  const withoutThem = await cli('trigger', 'create', 'ticker', '--feed', '/whisk.system/alarms/interval');
  expect(withoutThem.code).not.toBe(0);
  const created = await cli('trigger', 'create', 'ticker', '--feed', '/whisk.system/alarms/interval', '-F', join(work, 'feed.json'));
  expect(created.stderr).toBe('');
  expect(created.stdout).toContain('ok: created trigger ticker');
  const plain = await cli('trigger', 'create', 'plainTrigger', '-F', join(work, 'feed.json'));
  expect(plain.code).not.toBe(0);
  expect(plain.stderr).toContain('--feed-param-file is for a trigger with a --feed.');
  expect((await cli('trigger', 'delete', 'ticker')).code).toBe(0);
});

test.each([
  ['nodejs', { kind: 'nodejs:20' }, '.js'],
  ['python', { kind: 'python:3.11' }, '.py'],
  ['a zip', { kind: 'nodejs:20', binary: true }, '.zip'],
  ['a jar', { kind: 'java:8', binary: true }, '.jar'],
])('the code of %s is saved as %s', (_title, exec, extension) => {
  expect(codeExtension(exec)).toBe(extension);
});

test.each([
  ['2026-12-02T01:02:03.456Z stdout: hello', 'hello'],
  ['2026-12-02T01:02:03.456Z stderr: a: b', 'a: b'],
  ['not a log line', 'not a log line'],
])('the stripped form of %j is %j', (line, stripped) => {
  expect(strippedLogLine(line)).toBe(stripped);
});

test.each([
  ['no parameters and no description', [], 'action /guest/summed', 'none defined'],
  ['bound parameters, starred, and documented ones, sorted', ['-p', 'zone', 'eu', '-a', 'parameters', '[{"name":"city"},{"name":"zone"}]'], 'action /guest/summed: Returns a result based on parameters city and zone', 'city, *zone'],
  ['a final action doubles the star', ['-p', 'zone', 'eu', '-a', 'final', 'true'], 'action /guest/summed: Returns a result based on parameter zone', '**zone'],
  ['a description wins over the parameters', ['-p', 'zone', 'eu', '-a', 'description', 'Forecasts'], 'action /guest/summed: Forecasts', '*zone'],
])('action get --summary: %s, as wsk prints it', async (_title, flags, head, parameters) => {
  await cli('action', 'delete', 'summed');
  expect((await cli('action', 'create', 'summed', join(work, 'src.js'), ...flags)).code).toBe(0);
  const summary = await cli('action', 'get', 'summed', '--summary');
  expect(summary.stdout).toBe(`${head}\n   (parameters: ${parameters})\n`);
});

test('activation get --summary shows the result under its status, and --logs only the log messages', async () => {
  const invoked = await cli('action', 'invoke', 'plain', '--blocking');
  const id = /with id (\w+)/.exec(invoked.stdout)?.[1];
  expect(id).toBeDefined();
  const summary = await cli('activation', 'get', id!, '--summary');
  expect(summary.stdout).toMatch(/^activation result for '\/guest\/plain' \(success at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC\)\n\{\n {4}"ok": true\n\}\n$/);
  expect((await cli('activation', 'get', id!, '--logs')).stdout).toBe('line one\nline two\n');
});

test('activation list --full prints every record in full, logs included', async () => {
  const listed = await cli('activation', 'list', 'plain', '--full', '--limit', '1');
  const [heading, ...rest] = listed.stdout.split('\n');
  expect(heading).toBe('activations');
  const record = JSON.parse(rest.join('\n')) as { name: string; logs: string[]; response: { result: unknown } };
  expect(record).toMatchObject({ name: 'plain', response: { result: { ok: true } } });
  expect(record.logs.map(strippedLogLine)).toEqual(['line one', 'line two']);
});
