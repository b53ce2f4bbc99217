import { mkdtempSync, readFileSync } from 'node:fs';
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
