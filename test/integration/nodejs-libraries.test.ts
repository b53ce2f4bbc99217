import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { zipBase64 } from '../helpers/zip';

// In process mode (Fargate's, and local without Docker) nodejs actions find the libraries the
// nodejs images preinstall too: `npm ci` installs them beside the proxy (runtimes/nodejs).

type Record_ = { response: { result: Record<string, unknown> } };

const LIBRARIES = ['openwhisk', 'express', 'body-parser', 'redis', 'serialize-error', 'uuid'];

describe('nodejs libraries in process mode', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform();
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('a plain action requires every library OpenWhisk preinstalls', async () => {
    const wsk = env.wsk();
    const code = `function main() { return Object.fromEntries(${JSON.stringify(LIBRARIES)}.map((lib) => [lib, typeof require(lib)])); }`;
    await wsk.actions.create({ name: 'libraries', action: code });
    const record = (await wsk.actions.invoke({ name: 'libraries', blocking: true })) as Record_;
    expect(Object.keys(record.response.result).sort()).toEqual([...LIBRARIES].sort());
    expect(Object.values(record.response.result).every((type) => type === 'function' || type === 'object')).toBe(true);
  });

  test('a zipped action requires them from its own directory', async () => {
    const wsk = env.wsk();
    const code = await zipBase64({ 'index.js': "exports.main = () => ({ id: require('uuid').v4().length });" });
    await wsk.actions.create({ name: 'zipped-libraries', action: { exec: { kind: 'nodejs:default', code, binary: true } } } as never);
    const record = (await wsk.actions.invoke({ name: 'zipped-libraries', blocking: true })) as Record_;
    expect(record.response.result).toEqual({ id: 36 });
  });
});
