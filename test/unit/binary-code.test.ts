import { isBinaryCode } from '../../lib/model/entity';

// Whether an action's code is taken as an archive, as OpenWhisk's Exec.isBinaryCode decides it.
describe('code is a zip when it is base64, whatever the client said', () => {
  test.each([
    ['a base64 zip', 'UEsDBAoAAAAAAA==', true],
    ['base64 with one padding character', 'UEsDBAo=', true],
    ['base64 without padding', 'UEsDBAoA', true],
    ['base64 with a trailing newline, as files end', 'UEsDBAoA\n', true],
    ['JavaScript source', 'function main() { return {}; }', false],
    ['Python source', 'def main(args):\n    return args\n', false],
    ['a base64 alphabet string of the wrong length', 'UEsDBAo', false],
    ['padding in the middle', 'UE==BAoA', false],
    ['three padding characters', 'UE===BAo', false],
    ['padding alone', '====', false],
    ['base64url characters, which OpenWhisk does not accept', 'UEsD-_oA', false],
    ['empty code', '', false],
    ['blanks only', '    ', false],
    // Java's trim, as OpenWhisk's: control characters go, a byte-order mark stays.
    ['base64 after a NUL and a tab', '\u0000\tUEsDBAoA', true],
    ['base64 after a byte-order mark', '\uFEFFUEsDBAo=', false],
  ])('%s', (_, code, binary) => {
    expect(isBinaryCode(code)).toBe(binary);
  });

  // A regular expression over this much code once overflowed V8's regexp stack in a full test run.
  test('a 16 MB archive is recognised, and 16 MB of near-base64 is not', () => {
    expect(isBinaryCode('QUJD'.repeat(4_000_000))).toBe(true);
    expect(isBinaryCode(`${'QUJD'.repeat(3_999_999)}QUJ!`)).toBe(false);
  });
});
