import { PROCESS_MODE_RUNS_NO_IMAGES } from '../../lib/invoker/process-factory';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { zipBase64 } from '../helpers/zip';

// Where actions run as processes (Fargate, or no Docker engine), an action that needs an image
// ends in a record that says so, not in a generic provisioning error.

type Record_ = { response: { success: boolean; status: string; result: { error?: string } } };

describe('images in process mode', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform();
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test.each([
    ['a blackbox action', async () => ({ kind: 'blackbox', image: 'example/runner:1' })],
    ['a native action', async () => ({ kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: await zipBase64({ exec: '#!/bin/sh\necho {}\n' }), binary: true })],
  ])('%s ends in a whisk error that names the mode', async (title, exec) => {
    const wsk = env.wsk();
    const name = title.replace(/\s/g, '-');
    await wsk.actions.create({ name, action: { exec: await exec() } } as never);
    const record = (await wsk.actions.invoke({ name, blocking: true }).catch((error: { error: Record_ }) => error.error)) as Record_;
    expect(record.response).toMatchObject({ success: false, status: 'whisk internal error', result: { error: PROCESS_MODE_RUNS_NO_IMAGES } });
  });
});
