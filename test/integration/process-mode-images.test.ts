import { PROCESS_MODE_RUNS_NO_IMAGES, processModeRunsNoKind } from '../../lib/model/runtimes';
import { configFromEnv } from '../../lib/config';
import type { StoredAction } from '../../lib/model/entity';
import { EntitiesRepository } from '../../lib/store/entities';
import { dumpStore, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { zipBase64 } from '../helpers/zip';

// Where actions run as processes (Fargate, or no Docker engine), an action that needs an image is
// refused when it is created; where the operator accepts such actions anyway (an invoker with
// Docker may join), one that lands on a process invoker ends in a record that says why.

type Record_ = { response: { success: boolean; status: string; result: { error?: string } } };
type ClientError = { statusCode: number; error: { error: string; code: string } };

const IMAGE_EXECS: Array<[string, () => Promise<object>]> = [
  ['a blackbox action', async () => ({ kind: 'blackbox', image: 'example/runner:1' })],
  ['a native action', async () => ({ kind: 'blackbox', image: 'openwhisk/dockerskeleton', code: await zipBase64({ exec: '#!/bin/sh\necho {}\n' }), binary: true })],
];

/** Our nodejs kind, and OpenWhisk's Go image as a manifest names it. */
const MANIFEST = {
  runtimes: {
    nodejs: [
      { kind: 'nodejs:22', default: true, image: { prefix: 'skywhisk', name: 'action-nodejs-v22' } },
      { kind: 'nodejs:20', deprecated: true, image: { prefix: 'skywhisk', name: 'action-nodejs-v20' } },
    ],
    go: [{ kind: 'go:1.22', default: true, image: { prefix: 'openwhisk', name: 'action-golang-v1.22', tag: 'nightly' } }],
  },
};

describe('images on a platform whose invoker runs processes', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_RUNTIMES: JSON.stringify(MANIFEST) });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test.each(IMAGE_EXECS)('%s is refused at create time with a 400 that names the mode, and nothing is stored', async (title, exec) => {
    const before = await dumpStore(env.clients);
    const name = title.replace(/\s/g, '-');
    const refused = (await env.wsk().actions.create({ name, action: { exec: await exec() } } as never).catch((error: ClientError) => error)) as ClientError;
    expect(refused.statusCode).toBe(400);
    expect(refused.error.error).toBe(PROCESS_MODE_RUNS_NO_IMAGES);
    expect(refused.error.code).toEqual(expect.any(String));
    expect(await dumpStore(env.clients)).toEqual(before);
  });

  test("a kind of the runtimes manifest whose image is not ours is refused at create time, naming the kind", async () => {
    const before = await dumpStore(env.clients);
    const refused = (await env.wsk().actions.create({ name: 'gopher', kind: 'go:1.22', action: 'package main' } as never).catch((error: ClientError) => error)) as ClientError;
    expect(refused.statusCode).toBe(400);
    expect(refused.error.error).toBe(processModeRunsNoKind('go:1.22'));
    expect(await dumpStore(env.clients)).toEqual(before);
  });

  test("an action of a kind the manifest deprecates may be read and deleted, not created, updated or invoked", async () => {
    const wsk = env.wsk();
    const message = "The 'nodejs:20' runtime is no longer supported. You may read and delete but not update or invoke this action.";
    const created = (await wsk.actions.create({ name: 'old', kind: 'nodejs:20', action: 'function main() { return {}; }' } as never).catch((error: ClientError) => error)) as ClientError;
    expect([created.statusCode, created.error.error]).toEqual([400, message]);
    // One made before its kind was deprecated: the store has it as it was.
    await wsk.actions.create({ name: 'old', action: 'function main() { return { ran: true }; }' });
    const entities = new EntitiesRepository(env.clients.dynamo, configFromEnv({}).tables.entities);
    const stored = (await entities.get<StoredAction>('guest', 'actions', 'old'))!;
    await entities.put('guest', 'actions', 'old', { ...stored.doc, exec: { ...stored.doc.exec, kind: 'nodejs:20' } }, `${stored.revision}x`, Date.now(), stored.revision);
    expect((await wsk.actions.get({ name: 'old' })).exec).toMatchObject({ kind: 'nodejs:20' });
    for (const attempt of [() => wsk.actions.invoke({ name: 'old', blocking: true }), () => wsk.actions.update({ name: 'old', params: { a: 1 } } as never)]) {
      const refused = (await attempt().catch((error: ClientError) => error)) as ClientError;
      expect([refused.statusCode, refused.error.error]).toEqual([400, message]);
    }
    await wsk.actions.delete({ name: 'old' });
  });

  test('an action cannot be updated into a blackbox one, and keeps its code', async () => {
    const wsk = env.wsk();
    await wsk.actions.create({ name: 'stays-code', action: 'function main() { return { ok: true } }' });
    const refused = (await wsk.actions.update({ name: 'stays-code', action: { exec: { kind: 'blackbox', image: 'example/runner:1' } } } as never).catch((error: ClientError) => error)) as ClientError;
    expect(refused.statusCode).toBe(400);
    expect(await wsk.actions.invoke({ name: 'stays-code', blocking: true, result: true })).toEqual({ ok: true });
  });
});

describe('images accepted by the operator on a platform whose invoker runs processes', () => {
  let env: TestPlatform;

  beforeAll(async () => {
    env = await startTestPlatform({ SKYWHISK_ACTIONS_AS_PROCESSES: 'false' });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('a blackbox action without code shows no code field, as OpenWhisk shows it', async () => {
    const created = await env.wsk().actions.create({ name: 'image-only', action: { exec: { kind: 'blackbox', image: 'example/runner:1' } } as never });
    expect(created.exec).toEqual({ kind: 'blackbox', image: 'example/runner:1', binary: false });
    expect((await env.wsk().actions.get({ name: 'image-only' })).exec).toEqual({ kind: 'blackbox', image: 'example/runner:1', binary: false });
  });

  test.each(IMAGE_EXECS)('%s ends in a whisk error that names the mode', async (title, exec) => {
    const wsk = env.wsk();
    const name = title.replace(/\s/g, '-');
    await wsk.actions.create({ name, action: { exec: await exec() } } as never);
    const record = (await wsk.actions.invoke({ name, blocking: true }).catch((error: { error: Record_ }) => error.error)) as Record_;
    expect(record.response).toMatchObject({ success: false, status: 'whisk internal error', result: { error: PROCESS_MODE_RUNS_NO_IMAGES } });
  });
});
