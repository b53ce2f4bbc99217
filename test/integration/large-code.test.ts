import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import JSZip from 'jszip';
import { SYSTEM_LIMITS } from '../../lib/model/limits';
import { basicAuthHeader, dumpStore, startTestPlatform, withInvokerLog, type TestPlatform } from '../helpers/platform';

// OpenWhisk takes 48 MB of code (base64 text for a zip), while payloads stay capped at 1 MB.
// A zip near the limit is stored, initialised and run; code over it is OpenWhisk's 413.

const MB = 1024 * 1024;

describe('action code up to 48 MB', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform();
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  const put = (name: string, body: string) =>
    fetch(`${env.platform.apiHost}/api/v1/namespaces/_/actions/${name}`, {
      method: 'PUT',
      headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
      body,
    });

  /**
   * A PUT that declares a body of `length` bytes and sends none of it: the server must answer from
   * the declared length alone, before reading anything.
   */
  const putDeclaring = (name: string, length: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(`${env.platform.apiHost}/api/v1/namespaces/_/actions/${name}`, {
        method: 'PUT',
        headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json', 'content-length': length },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, body: text });
          request.destroy();
        });
      });
      request.on('error', reject);
      request.flushHeaders();
    });

  test('a 40 MB zip (a node_modules-sized bundle) is created, read back and runs', () => withInvokerLog(env, async () => {
    // Random bytes do not compress: the zip holds them as they are, 30 MB, 40 MB as base64. The zip
    // and what it unpacks to live in the action's scratch space, which counts against its memory:
    // 512 MB leaves room for both beside the runtime's copies of the code.
    const zip = new JSZip();
    zip.file('index.js', "const fs = require('fs');\nexports.main = () => ({ bytes: fs.statSync(__dirname + '/blob.bin').size });\n");
    zip.file('blob.bin', randomBytes(30 * MB), { compression: 'STORE' });
    const code = await zip.generateAsync({ type: 'base64', compression: 'STORE' });
    expect(code.length).toBeGreaterThan(SYSTEM_LIMITS.maxPayloadSize * 39);
    const created = await put('bundle', JSON.stringify({ exec: { kind: 'nodejs:22', code, binary: true }, limits: { memory: 512 } }));
    expect(created.status).toBe(200);
    const fetched = (await env.wsk().actions.get({ name: 'bundle' })) as { exec: { code: string } };
    expect(fetched.exec.code === code).toBe(true);
    expect(await env.wsk().actions.invoke({ name: 'bundle', blocking: true, result: true })).toEqual({ bytes: 30 * MB });
    // A listing shows it from its brief, without reading its 40 MB.
    const listed = (await env.wsk().actions.list()) as Array<{ name: string; exec: { binary: boolean } }>;
    expect(listed.find((a) => a.name === 'bundle')).toMatchObject({ exec: { binary: true } });
  }), 120_000);

  test('code one byte over 48 MB is a 413 in OpenWhisk\'s words, and nothing is stored', async () => {
    const before = await dumpStore(env.clients);
    const code = `// ${'x'.repeat(SYSTEM_LIMITS.maxCodeSize - 2)}`;
    const response = await put('too-big', JSON.stringify({ exec: { kind: 'nodejs:22', code } }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toBe(`exec larger than allowed: ${SYSTEM_LIMITS.maxCodeSize + 1} > ${SYSTEM_LIMITS.maxCodeSize} bytes.`);
    expect(await dumpStore(env.clients)).toEqual(before);
  }, 60_000);

  test('a body over 51 MB is refused from its declared length before it is read, and other routes keep the 1 MB cap', async () => {
    const huge = await putDeclaring('huge', 52 * MB);
    expect(huge.status).toBe(413);
    expect((JSON.parse(huge.body) as { error: string }).error).toBe('The request content exceeds the maximum allowed size.');
    const trigger = await fetch(`${env.platform.apiHost}/api/v1/namespaces/_/triggers/big`, {
      method: 'PUT',
      headers: { authorization: basicAuthHeader(env.platform.auth), 'content-type': 'application/json' },
      body: JSON.stringify({ parameters: [{ key: 'a', value: 'x'.repeat(2 * MB) }] }),
    });
    expect(trigger.status).toBe(413);
  }, 60_000);
});
