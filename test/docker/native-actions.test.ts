import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { dockerTestsEnabled } from '../helpers/docker';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

// Native actions as `wsk action create --native` makes them: kind blackbox, OpenWhisk's skeleton
// image, and a zip holding an executable named exec. The executable gets the arguments as JSON in
// its first argument (and on stdin); its last line of output is the result, the rest its logs.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const SKELETON = 'openwhisk/dockerskeleton';

type Record_ = { response: { result: unknown; success: boolean; status: string }; logs: string[] };

async function zipOf(files: Record<string, { content: string | Buffer; mode?: number }>): Promise<string> {
  const zip = new JSZip();
  for (const [name, file] of Object.entries(files)) zip.file(name, file.content, { unixPermissions: file.mode ?? 0o644 });
  return zip.generateAsync({ type: 'base64', platform: 'UNIX' });
}

const SHELL_EXEC = `#!/bin/sh
echo "got $1"
echo "a line on stderr" >&2
echo "{\\"echo\\": $1, \\"activation\\": \\"$__OW_ACTIVATION_ID\\"}"
`;

const C_EXEC = `#include <stdio.h>
int main(int argc, char **argv) {
  printf("compiled, %d argument\\n", argc - 1);
  printf("{\\"from\\": \\"c\\", \\"args\\": %s}\\n", argc > 1 ? argv[1] : "null");
  return 0;
}
`;

function compiler(): string | undefined {
  for (const cc of ['cc', 'gcc']) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return cc;
    } catch {
      // not here
    }
  }
  return undefined;
}
const CC = compiler();

describeDocker('native actions (--native)', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_CONTAINER_FACTORY: 'docker', SKYWHISK_STEM_CELLS: '' });
  }, 600_000);

  afterAll(async () => {
    await env?.stop();
  });

  async function createAndInvoke(name: string, code: string, binary: boolean, params: Record<string, unknown> = {}): Promise<Record_> {
    const wsk = env.wsk();
    await wsk.actions.create({ name, action: { exec: { kind: 'blackbox', image: SKELETON, code, binary } } } as never);
    return (await wsk.actions.invoke({ name, blocking: true, params }).catch((error: { error: Record_ }) => error.error)) as Record_;
  }

  test('a shell script in a zip: its last line is the result, the lines before and stderr its logs', async () => {
    const record = await createAndInvoke('native-sh', await zipOf({ exec: { content: SHELL_EXEC, mode: 0o755 } }), true, { name: 'Ada' });
    expect(record.response.success).toBe(true);
    const result = record.response.result as { echo: unknown; activation: string };
    expect(result.echo).toEqual({ name: 'Ada' });
    expect(result.activation).toMatch(/^[0-9a-f]{32}$/);
    expect(record.logs).toEqual([expect.stringMatching(/stdout: got \{"name":"Ada"\}$/), expect.stringMatching(/stderr: a line on stderr$/)]);
  }, 120_000);

  (CC ? test : test.skip)('a compiled binary in a zip runs the same way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skywhisk-native-'));
    try {
      writeFileSync(join(dir, 'exec.c'), C_EXEC);
      execFileSync(CC!, ['-static', '-O2', '-o', join(dir, 'exec'), join(dir, 'exec.c')]);
      // Without its execute bit in the zip, as some zip tools leave it: the runtime sets it.
      const record = await createAndInvoke('native-c', await zipOf({ exec: { content: readFileSync(join(dir, 'exec')) } }), true, { n: 1 });
      expect(record.response.result).toEqual({ from: 'c', args: { n: 1 } });
      expect(record.logs).toEqual([expect.stringMatching(/stdout: compiled, 1 argument$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('a script as plain code (not zipped) runs by its #! line', async () => {
    const record = await createAndInvoke('native-plain', '#!/bin/sh\necho \'{"plain": true}\'\n', false);
    expect(record.response.result).toEqual({ plain: true });
  }, 120_000);

  test.each([
    ['the last line is not JSON', '#!/bin/sh\necho "just text"\n', 'The action did not return a dictionary or array.', /stdout: just text$/],
    ['the executable prints nothing', '#!/bin/sh\nexit 0\n', 'The action did not return a dictionary or array.', undefined],
  ])('%s: a developer error, with what it printed in the logs', async (_title, script, error, logLine) => {
    const record = await createAndInvoke(`native-bad-${script.length}`, await zipOf({ exec: { content: script, mode: 0o755 } }), true);
    expect(record.response).toMatchObject({ success: false, status: 'action developer error', result: { error } });
    if (logLine) expect(record.logs).toContainEqual(expect.stringMatching(logLine));
  }, 120_000);

  test('a zip without exec fails at init with OpenWhisk’s message', async () => {
    const record = await createAndInvoke('native-no-exec', await zipOf({ 'run.sh': { content: '#!/bin/sh\necho {}\n', mode: 0o755 } }), true);
    expect(record.response).toMatchObject({ success: false, status: 'action developer error', result: { error: 'The action failed to generate or locate a binary. See logs for details.' } });
  }, 120_000);
});
