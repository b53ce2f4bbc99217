import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// The `skywhisk` CLI's trigger, rule, package, namespace and list commands, sequences, web
// actions, feeds and `activation poll`, against a running platform, as a user would use them.

let env: TestPlatform;
const work = mkdtempSync(join(tmpdir(), 'skywhisk-cli-entities-e2e-'));

function cli(...args: string[]): Promise<CliRun> {
  return runCli(work, env.platform.wskpropsFile, args);
}

/** A command that must succeed; its failure shows what the CLI printed. */
async function ok(...args: string[]): Promise<string> {
  const result = await cli(...args);
  if (result.code !== 0) throw new Error(`skywhisk ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse(await ok('--json', ...args)) as T;
}

function file(name: string, code: string): string {
  const path = join(work, name);
  writeFileSync(path, code);
  return path;
}

interface ActivationBrief {
  activationId: string;
  name: string;
}

/** Waits (polling, bounded by count) for `count` activations of `name`, newest first. */
async function activationsOf(name: string, count = 1): Promise<ActivationBrief[]> {
  let list: ActivationBrief[] = [];
  for (let i = 0; i < 100; i++) {
    list = await json<ActivationBrief[]>('activation', 'list', name);
    if (list.length >= count) return list;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`expected ${count} activation(s) of ${name}, found ${list.length}`);
}

beforeAll(async () => {
  env = await startTestPlatform();
  file('hello.js', "function main(params) { console.log('hello log ' + params.name); return { greeting: 'Hello ' + params.name }; }\n");
});

afterAll(async () => {
  await env?.stop();
});

test('a rule runs an action when its trigger fires; disabled rules do not; poll prints the activation', async () => {
  await ok('action', 'create', 'greet', join(work, 'hello.js'));
  expect(await ok('trigger', 'create', 'ding', '-p', 'name', 'Trigger')).toBe('ok: created trigger ding\n');
  expect(await ok('rule', 'create', 'ding-greet', 'ding', 'greet')).toBe('ok: created rule ding-greet\n');
  expect(await ok('rule', 'status', 'ding-greet')).toBe('ok: rule ding-greet is active\n');
  expect(await json('rule', 'get', 'ding-greet')).toMatchObject({ name: 'ding-greet', status: 'active', trigger: { path: 'guest', name: 'ding' }, action: { path: 'guest', name: 'greet' } });

  const fired = await ok('trigger', 'fire', 'ding');
  expect(fired).toMatch(/^ok: fired trigger ding with id [0-9a-f]{32}\n$/);
  const [activation] = await activationsOf('greet');
  expect(JSON.parse(await ok('activation', 'result', activation.activationId))).toMatchObject({ success: true, result: { greeting: 'Hello Trigger' } });

  const polled = await ok('activation', 'poll', 'greet', '--since-seconds', '300', '--exit', '0');
  expect(polled).toContain(`Activation: 'greet' (${activation.activationId})`);
  expect(polled).toMatch(/stdout: hello log Trigger/);

  expect(await ok('trigger', 'list')).toMatch(/^triggers\n\/guest\/ding\s+private\n$/);
  expect(await ok('rule', 'list')).toMatch(/^rules\n\/guest\/ding-greet\s+private/);

  expect(await ok('rule', 'disable', 'ding-greet')).toBe('ok: disabled rule ding-greet\n');
  expect(await ok('rule', 'status', 'ding-greet')).toBe('ok: rule ding-greet is inactive\n');
  expect(await ok('trigger', 'fire', 'ding')).toBe('ok: fired trigger ding; no active rule, so no activation\n');
  expect(await ok('rule', 'enable', 'ding-greet')).toBe('ok: enabled rule ding-greet\n');
  await ok('trigger', 'fire', 'ding', '-p', 'name', 'Again');
  const [latest] = await activationsOf('greet', 2);
  expect(JSON.parse(await ok('activation', 'result', latest.activationId))).toMatchObject({ result: { greeting: 'Hello Again' } });

  expect(await ok('rule', 'delete', 'ding-greet', '--disable')).toBe('ok: deleted rule ding-greet\n');
  expect(await ok('trigger', 'delete', 'ding')).toBe('ok: deleted trigger ding\n');
  expect((await cli('trigger', 'get', 'ding')).code).not.toBe(0);
});

test('a feed action hears CREATE and DELETE with the trigger name and key; a failing feed leaves no trigger', async () => {
  // A feed that reports what it was told, and refuses a CREATE without `cron`.
  await ok('package', 'create', 'feeds');
  await ok(
    'action',
    'create',
    'feeds/ticker',
    file(
      'ticker.js',
      "function main(p) { console.log(JSON.stringify({ event: p.lifecycleEvent, trigger: p.triggerName, key: p.authKey, cron: p.cron }));\n" +
        "  if (p.lifecycleEvent === 'CREATE' && !p.cron) return { error: 'cron is required' };\n  return { ok: true }; }\n",
    ),
  );
  const created = await ok('trigger', 'create', 'tick', '--feed', 'feeds/ticker', '-p', 'cron', '*/5 * * * *');
  expect(created).toMatch(/^ok: invoked \/guest\/feeds\/ticker with id [0-9a-f]{32}\nok: created trigger tick\n$/);
  const trigger = await json<{ annotations: Array<{ key: string; value: unknown }>; parameters: unknown[] }>('trigger', 'get', 'tick');
  expect(trigger.annotations).toContainEqual({ key: 'feed', value: '/guest/feeds/ticker' });
  expect(trigger.parameters).toEqual([]);

  const [createCall] = await activationsOf('feeds/ticker');
  const told = (id: string) => ok('activation', 'logs', id).then((logs) => JSON.parse(logs.slice(logs.indexOf('{'))));
  expect(await told(createCall.activationId)).toEqual({ event: 'CREATE', trigger: '/guest/tick', key: env.platform.auth, cron: '*/5 * * * *' });

  expect(await ok('trigger', 'delete', 'tick')).toMatch(/^ok: invoked \/guest\/feeds\/ticker with id [0-9a-f]{32}\nok: deleted trigger tick\n$/);
  const [deleteCall] = await activationsOf('feeds/ticker', 2);
  expect(await told(deleteCall.activationId)).toMatchObject({ event: 'DELETE', trigger: '/guest/tick' });

  const refused = await cli('trigger', 'create', 'broken', '--feed', 'feeds/ticker');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("Unable to create trigger 'broken': cron is required");
  expect((await cli('trigger', 'get', 'broken')).stderr).toContain('(404)');
});

test('a package, its action, a binding with its own parameters, and the action through the binding', async () => {
  expect(await ok('package', 'create', 'tools', '-p', 'greeting', 'Hi', '-a', 'description', 'Handy tools', '--shared', 'yes')).toBe('ok: created package tools\n');
  await ok('action', 'create', 'tools/say', file('say.js', "function main(p) { return { text: p.greeting + ' ' + p.name }; }\n"), '-a', 'description', 'Says it');
  expect(await ok('package', 'bind', 'tools', 'mytools', '-p', 'name', 'Bound')).toBe('ok: created binding mytools\n');

  expect(JSON.parse(await ok('action', 'invoke', 'mytools/say', '-r'))).toEqual({ text: 'Hi Bound' });
  expect(JSON.parse(await ok('action', 'invoke', 'tools/say', '-r', '-p', 'name', 'Direct'))).toEqual({ text: 'Hi Direct' });

  const listed = await ok('package', 'list', '--name-sort');
  expect(listed).toMatch(/^packages\n/);
  expect(listed).toMatch(/\/guest\/mytools\s+private\n/);
  expect(listed).toMatch(/\/guest\/tools\s+shared\n/);
  expect(await ok('action', 'list', 'tools/')).toMatch(/^actions\n\/guest\/tools\/say\s+private\s+nodejs:22\n$/);
  const summary = await ok('package', 'get', 'tools', '--summary');
  expect(summary).toContain('package /guest/tools: Handy tools');
  expect(summary).toContain(' action /guest/tools/say: Says it');
  expect(await json('package', 'get', 'mytools')).toMatchObject({ binding: { namespace: 'guest', name: 'tools' } });

  expect((await cli('package', 'delete', 'tools')).code).not.toBe(0);
  await ok('package', 'delete', 'mytools');
  await ok('action', 'delete', 'tools/say');
  expect(await ok('package', 'delete', 'tools')).toBe('ok: deleted package tools\n');
});

test('--sequence chains actions: each result is the next input', async () => {
  await ok('action', 'create', 'upper', file('upper.js', 'function main(p) { return { text: p.text.toUpperCase() }; }\n'));
  await ok('action', 'create', 'exclaim', file('exclaim.js', "function main(p) { return { text: p.text + '!' }; }\n"));
  expect(await ok('action', 'create', 'shout', '--sequence', 'upper,exclaim')).toBe('ok: created action shout\n');
  expect(await json('action', 'get', 'shout')).toMatchObject({ exec: { kind: 'sequence', components: ['/guest/upper', '/guest/exclaim'] } });
  expect(JSON.parse(await ok('action', 'invoke', 'shout', '-r', '-p', 'text', 'hey'))).toEqual({ text: 'HEY!' });
});

test('--web true exports the action under /api/v1/web; --web-secure asks for the secret; --web false withdraws it', async () => {
  await ok('action', 'create', 'webhello', join(work, 'hello.js'), '--web', 'true');
  const url = `${env.platform.apiHost}/api/v1/web/guest/default/webhello.json?name=Web`;
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ greeting: 'Hello Web' });
  const action = await json<{ annotations: Array<{ key: string; value: unknown }> }>('action', 'get', 'webhello');
  expect(action.annotations).toEqual(expect.arrayContaining([{ key: 'web-export', value: true }, { key: 'raw-http', value: false }, { key: 'final', value: true }]));

  await ok('action', 'update', 'webhello', '--web-secure', 'open-sesame');
  expect((await fetch(url)).status).toBe(401);
  const withSecret = await fetch(url, { headers: { 'X-Require-Whisk-Auth': 'open-sesame' } });
  expect(withSecret.status).toBe(200);
  expect(await withSecret.json()).toEqual({ greeting: 'Hello Web' });

  await ok('action', 'update', 'webhello', '--web', 'false');
  expect((await fetch(url, { headers: { 'X-Require-Whisk-Auth': 'open-sesame' } })).status).toBe(404);
});

test('namespace list, namespace get and list show the namespace and its entities', async () => {
  expect(await ok('namespace', 'list')).toBe('namespaces\nguest\n');
  await ok('trigger', 'create', 'listed-trigger');
  await ok('action', 'create', 'listed-action', join(work, 'hello.js'));
  const listed = await ok('list');
  expect(listed).toMatch(/^Entities in namespace: guest\npackages\n/);
  expect(listed).toMatch(/\nactions\n(.*\n)*\/guest\/listed-action\s+private\s+nodejs:22\n/);
  expect(listed).toMatch(/\ntriggers\n\/guest\/listed-trigger\s+private\nrules\n$/);
  expect(await ok('namespace', 'get')).toBe(listed);
});
