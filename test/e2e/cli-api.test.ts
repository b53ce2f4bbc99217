import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../helpers/cli';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// `skywhisk api` with wsk's grammar and output: create, list, get and delete routes, and the routes
// answering over HTTP.

let env: TestPlatform;
const work = mkdtempSync(join(tmpdir(), 'skywhisk-cli-api-'));
const cli = (...args: string[]): Promise<CliRun> => runCli(work, env.platform.wskpropsFile, args);

beforeAll(async () => {
  env = await startTestPlatform();
  writeFileSync(join(work, 'books.js'), "function main(p) { return { book: p.title || 'none', path: p.__ow_path, method: p.__ow_method }; }\n");
  expect((await cli('action', 'create', 'books', join(work, 'books.js'), '--web', 'true')).code).toBe(0);
  expect((await cli('action', 'create', 'plain', join(work, 'books.js'))).code).toBe(0);
  writeFileSync(join(work, 'pathy.js'), 'function main(p) { return { statusCode: 200, body: { path: p.__ow_path } }; }\n');
  expect((await cli('action', 'create', 'pathy', join(work, 'pathy.js'), '--web', 'true')).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

test('api create prints the route and its URL, and the URL answers', async () => {
  const created = await cli('api', 'create', '/library', '/books', 'get', 'books', '--apiname', 'Library');
  expect(created.stderr).toBe('');
  const [line, url] = created.stdout.trim().split('\n');
  expect(line).toBe('ok: created API /library/books GET for action /guest/books');
  expect(url).toBe(`${env.platform.apiHost}/api/guest/library/books`);
  expect(await (await fetch(`${url}?title=Dune`)).json()).toEqual({ book: 'Dune', path: '', method: 'get' });
});

test('path parameters need --response-type http, and then the action gets the path', async () => {
  const refused = await cli('api', 'create', '/library', '/books/{isbn}', 'get', 'pathy');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("A response type of 'http' is required when using path parameters.");
  const created = await cli('api', 'create', '/library', '/books/{isbn}', 'get', 'pathy', '--response-type', 'http');
  expect(created.code).toBe(0);
  const answer = await fetch(`${env.platform.apiHost}/api/guest/library/books/978-0`);
  expect(await answer.json()).toEqual({ path: '/library/books/978-0' });
});

test('api create refuses an action that is not a web action, as wsk does', async () => {
  const refused = await cli('api', 'create', '/library', '/plain', 'get', 'plain');
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("Action '/guest/plain' is not a web action.");
});

test('api list shows every route as a table, or in full', async () => {
  const listed = await cli('api', 'list');
  const lines = listed.stdout.trim().split('\n');
  expect(lines[0]).toBe('ok: APIs');
  expect(lines[1]).toMatch(/^Action\s+Verb\s+API Name\s+URL$/);
  expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual(
    expect.arrayContaining([
      ['/guest/books', 'get', 'Library', `${env.platform.apiHost}/api/guest/library/books`],
      ['/guest/pathy', 'get', 'Library', `${env.platform.apiHost}/api/guest/library/books/{isbn}`],
    ]),
  );
  const full = await cli('api', 'list', '/library', '/books', '-f');
  expect(full.stdout).toContain('Action: /guest/books\n  API Name: Library\n  Base path: /library\n  Path: /books\n  Verb: get\n');
  expect(full.stdout).not.toContain('{isbn}');
});

test('api get prints the swagger document; a missing API says so', async () => {
  const got = JSON.parse((await cli('api', 'get', '/library')).stdout) as { basePath: string; info: { title: string } };
  expect(got).toMatchObject({ basePath: '/library', info: { title: 'Library' } });
  const missing = await cli('api', 'get', '/nowhere');
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('API does not exist for basepath /nowhere');
});

test('api create --config-file imports a swagger document', async () => {
  const swagger = {
    swagger: '2.0',
    info: { title: 'Imported', version: '1.0.0' },
    basePath: '/imported',
    paths: { '/read': { post: { operationId: 'postRead', 'x-openwhisk': { namespace: 'guest', package: '', action: 'books', url: `${env.platform.apiHost}/api/v1/web/guest/default/books.json` }, responses: {} } } },
  };
  writeFileSync(join(work, 'api.json'), JSON.stringify(swagger));
  const created = await cli('api', 'create', '--config-file', join(work, 'api.json'));
  expect(created.stdout.trim()).toBe(`ok: created API /imported/read POST for action /guest/books\n${env.platform.apiHost}/api/guest/imported/read`);
  const answer = await fetch(`${env.platform.apiHost}/api/guest/imported/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"Emma"}' });
  expect(await answer.json()).toEqual({ book: 'Emma', path: '', method: 'post' });
});

test('api create --config-file reads a .yaml swagger document, and api get --format yaml prints one', async () => {
  const yaml = [
    "swagger: '2.0'",
    'info: { title: Shelf, version: 1.0.0 }',
    'basePath: /shelf',
    'paths:',
    '  /list:',
    '    get:',
    '      operationId: getList',
    '      responses: {}',
    '      x-openwhisk:',
    '        namespace: guest',
    "        package: ''",
    '        action: books',
    `        url: ${env.platform.apiHost}/api/v1/web/guest/default/books.json`,
  ].join('\n');
  writeFileSync(join(work, 'shelf.yaml'), yaml);
  const created = await cli('api', 'create', '--config-file', join(work, 'shelf.yaml'));
  expect(created.stdout.trim()).toBe(`ok: created API /shelf/list GET for action /guest/books\n${env.platform.apiHost}/api/guest/shelf/list`);
  expect(await (await fetch(`${env.platform.apiHost}/api/guest/shelf/list?title=Kim`)).json()).toEqual({ book: 'Kim', path: '', method: 'get' });
  const got = await cli('api', 'get', '/shelf', '--format', 'yaml');
  expect(got.stdout).toMatch(/^swagger: "2\.0"\n/m);
  expect(got.stdout).toContain('basePath: /shelf\n');
  expect((await cli('api', 'delete', '/shelf')).code).toBe(0);
});

test.each([
  ['YAML that does not parse', 'bad.yml', 'paths: [unclosed', 'Unable to parse YAML configuration file'],
  ['JSON that does not parse', 'bad.json', '{"swagger":', "Error parsing swagger file"],
  ['a document without paths', 'partial.yaml', "swagger: '2.0'\ninfo: {title: x}\nbasePath: /x", 'Swagger file is invalid (missing basePath, info, paths, or swagger fields)'],
  ['a base path without its slash', 'slashless.json', JSON.stringify({ swagger: '2.0', info: {}, basePath: 'x', paths: {} }), 'Swagger file basePath must start with a leading slash (/)'],
])('api create --config-file refuses %s and creates nothing', async (_title, name, content, message) => {
  writeFileSync(join(work, name), content);
  const before = (await cli('api', 'list')).stdout;
  const refused = await cli('api', 'create', '--config-file', join(work, name));
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(message);
  expect((await cli('api', 'list')).stdout).toBe(before);
});

test('api delete removes an operation, a path, then the API', async () => {
  expect((await cli('api', 'delete', '/library', '/books/{isbn}', 'get')).stdout).toBe('ok: deleted /books/{isbn} GET from /library\n');
  expect((await fetch(`${env.platform.apiHost}/api/guest/library/books/978-0`)).status).toBe(404);
  expect((await cli('api', 'delete', '/library', '/books')).stdout).toBe('ok: deleted /books from /library\n');
  expect((await cli('api', 'delete', '/imported')).stdout).toBe('ok: deleted API /imported\n');
  const missing = await cli('api', 'delete', '/imported');
  expect(missing.stderr).toContain("Unable to delete API: API deletion failure: API '/imported' does not exist.");
  expect((await cli('api', 'list')).stdout.trim().split('\n')).toHaveLength(2);
});
