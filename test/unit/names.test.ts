import { formatReference, isValidEntityName, parseEntityPath, parseQualifiedName } from '../../lib/model/names';

describe('entity names follow OpenWhisk rules', () => {
  test.each(['a', 'hello', 'hello-world', 'with space.in@middle&more', 'x'.repeat(256), '_private'])('%s is valid', (name) => {
    expect(isValidEntityName(name)).toBe(true);
  });

  test.each(['', '-dash', ' lead', 'trail ', 'x'.repeat(257), 'héllo', 'a/b', 'a\u0000b', 'semi;colon'])('%j is invalid', (name) => {
    expect(isValidEntityName(name)).toBe(false);
  });

  test('paths are a name or package/name', () => {
    expect(parseEntityPath('hello')).toEqual({ name: 'hello' });
    expect(parseEntityPath('utils/echo')).toEqual({ pkg: 'utils', name: 'echo' });
    expect(parseEntityPath('a/b/c')).toBeUndefined();
    expect(parseEntityPath('utils/')).toBeUndefined();
  });
});

describe('qualified names as rules, sequences and conductors write them', () => {
  test.each([
    ['/ns/name', '/ns/name'],
    ['/ns/pkg/name', '/ns/pkg/name'],
    ['ns/pkg/name', '/ns/pkg/name'],
    ['pkg/name', '/me/pkg/name'],
    ['name', '/me/name'],
    ['/_/name', '/me/name'],
    ['_/pkg/name', '/me/pkg/name'],
  ])('%s resolves to %s', (raw, expected) => {
    expect(formatReference(parseQualifiedName(raw, 'me')!)).toBe(expected);
  });

  test.each(['', '/', '/ns', '//name', '/ns/a/b/c', 'a/b/c/d', '/ns/-bad', '/bad ns /x', 'x'.repeat(1100)])('%j is rejected', (raw) => {
    expect(parseQualifiedName(raw, 'me')).toBeUndefined();
  });
});
