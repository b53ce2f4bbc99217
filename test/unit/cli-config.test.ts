import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, writeWskprops } from '../../lib/cli/config';
import { extractKeyValuePairs } from '../../lib/cli/params';

test('-p and -a pairs are taken out of argv, values read as JSON when they parse', () => {
  const parsed = extractKeyValuePairs(['action', 'invoke', 'hi', '-p', 'name', 'World', '--param', 'n', '42', '-a', 'web-export', 'true', '-r', '-p', 'obj', '{"a":1}']);
  expect(parsed.argv).toEqual(['action', 'invoke', 'hi', '-r']);
  expect(parsed.params).toEqual({ name: 'World', n: 42, obj: { a: 1 } });
  expect(parsed.annotations).toEqual({ 'web-export': true });
});

test('-A files give annotations that -a pairs override, and --del-annotation keys are collected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-cli-annotations-'));
  const file = join(dir, 'annotations.json');
  writeFileSync(file, JSON.stringify({ description: 'from the file', owner: 'team' }));
  const parsed = extractKeyValuePairs(['action', 'update', 'hi', '-A', file, '-a', 'description', 'from the flag', '--del-annotation', 'old', '--del-annotation', 'older']);
  expect(parsed.argv).toEqual(['action', 'update', 'hi']);
  expect(parsed.annotations).toEqual({ description: 'from the flag', owner: 'team' });
  expect(parsed.deleteAnnotations).toEqual(['old', 'older']);
  writeFileSync(file, '[1, 2]');
  expect(() => extractKeyValuePairs(['action', 'update', 'hi', '--annotation-file', file])).toThrow(/must hold a JSON object/);
  expect(() => extractKeyValuePairs(['action', 'update', 'hi', '--del-annotation'])).toThrow(/needs a key/);
});

test('a -p without its value is an error', () => {
  expect(() => extractKeyValuePairs(['action', 'invoke', 'hi', '-p', 'name'])).toThrow(/needs a key and a value/);
});

describe('apihost and auth resolution', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skywhisk-cli-'));
  const file = join(dir, 'wskprops');
  writeWskprops(file, { APIHOST: 'http://from-file:3233', AUTH: 'file:key', NAMESPACE: 'guest' });

  test('the wskprops file is used when nothing else is given', () => {
    expect(resolveConfig({}, { WSK_CONFIG_FILE: file })).toEqual({ apihost: 'http://from-file:3233', auth: 'file:key', namespace: 'guest' });
    expect(readFileSync(file, 'utf8')).toContain('APIHOST=http://from-file:3233');
  });

  test('__OW_ variables win over the file, flags win over both', () => {
    const env = { WSK_CONFIG_FILE: file, __OW_API_HOST: 'http://from-env:1', __OW_API_KEY: 'env:key' };
    expect(resolveConfig({}, env)).toMatchObject({ apihost: 'http://from-env:1', auth: 'env:key' });
    expect(resolveConfig({ apihost: 'http://flag:2', auth: 'flag:key' }, env)).toMatchObject({ apihost: 'http://flag:2', auth: 'flag:key' });
  });

  test('a host without a scheme means https, as wsk assumes', () => {
    expect(resolveConfig({ apihost: 'example.com', auth: 'a:b' }, { WSK_CONFIG_FILE: join(dir, 'none') }).apihost).toBe('https://example.com');
  });

  test('no apihost anywhere is a clear error', () => {
    expect(() => resolveConfig({}, { WSK_CONFIG_FILE: join(dir, 'none') })).toThrow(/API host is not valid/);
  });
});
