import { Hono } from 'hono';
import { createAwsClients, type AwsSettings } from '../../lib/aws-clients';
import { AlarmsRepository, type Alarm } from '../../lib/alarms/store';
import { parseAlarmParams } from '../../lib/alarms/spec';
import { invocationArgs } from '../../lib/catalog/resolve';
import type { ControllerEnv } from '../../lib/controller/context';
import { WhiskError } from '../../lib/controller/errors';
import { jsonObjectBody } from '../../lib/controller/request';
import { WebActionError, webActionArgs } from '../../lib/controller/web-request';
import { activationMessageSchema, type ActivationRecord } from '../../lib/model/activation';
import { ActivationsRepository } from '../../lib/store/activations';
import { EntitiesRepository } from '../../lib/store/entities';
import { expectSameJson, tricky, TRICKY_TEXT } from '../helpers/tricky-json';

// The functions user JSON passes through keep every key a user sent (`__proto__`, `constructor`,
// `toString`, ...) as an own property, at any depth, and never touch a prototype; the stores give
// back exactly what was put, through the real document client and its marshaller.

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  expect(Object.getOwnPropertyNames(Array.prototype)).not.toContain('polluted');
});

describe('REST request bodies', () => {
  async function post(body: string): Promise<{ status: number; parsed?: Record<string, unknown>; error?: string }> {
    let parsed: Record<string, unknown> | undefined;
    const app = new Hono<ControllerEnv>();
    app.post('/', async (c) => {
      parsed = await jsonObjectBody(c);
      return c.body(null, 204);
    });
    app.onError((error, c) => c.json({ error: error.message }, error instanceof WhiskError ? error.status : 500));
    const response = await app.request('/', { method: 'POST', body });
    return { status: response.status, parsed, ...(response.status === 204 ? {} : ((await response.json()) as { error: string })) };
  }

  test('a body with __proto__ and constructor keys is parsed with every key its own', async () => {
    const { status, parsed } = await post(TRICKY_TEXT);
    expect(status).toBe(204);
    expectSameJson(parsed, tricky());
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  test('a body nested 100 levels is taken, 101 levels and 200,000 levels are a 400', async () => {
    expect((await post('{"a":'.repeat(99) + '{}' + '}'.repeat(99))).status).toBe(204);
    expect(await post('{"a":'.repeat(100) + '{}' + '}'.repeat(100))).toMatchObject({ status: 400, error: expect.stringMatching(/nests more than 100 levels/) });
    expect(await post('{"a":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}')).toMatchObject({ status: 400, error: expect.stringMatching(/nests more than 100 levels/) });
  });
});

describe('invocation arguments', () => {
  test('bound parameters named __proto__ or constructor reach the action, under the payload', () => {
    const args = invocationArgs(
      [
        { key: '__proto__', value: { polluted: 'bound' } },
        { key: 'constructor', value: 'bound' },
        { key: 'toString', value: 'bound' },
        { key: 'secret', value: 'init only', init: true },
      ],
      JSON.parse('{"__proto__":{"polluted":"payload"},"hasOwnProperty":"payload"}') as Record<string, unknown>,
    );
    expectSameJson(args, JSON.parse('{"__proto__":{"polluted":"payload"},"constructor":"bound","toString":"bound","hasOwnProperty":"payload"}'));
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
  });

  test('the invocation message keeps a __proto__ parameter when an invoker parses it', () => {
    const params = tricky();
    const message = {
      activationId: '0'.repeat(32),
      transactionId: 't',
      namespace: 'guest',
      subject: 'guest',
      action: { namespace: 'guest', path: 'echo', revision: 'r' },
      params,
      blocking: true,
      acceptedAt: 1,
    };
    const parsed = activationMessageSchema.parse(JSON.parse(JSON.stringify(message)));
    expectSameJson(parsed.params, params);
    expect(activationMessageSchema.safeParse({ ...message, params: [] }).success).toBe(false);
  });
});

describe('web action arguments', () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  const args = (body: string, contentType = 'application/json') =>
    webActionArgs({ method: 'POST', headers: { 'content-type': contentType }, path: '', query: '', body: bytes(body) }, { raw: false, protectedKeys: [] });

  test('a JSON body with __proto__ and constructor keys is promoted key by key', () => {
    const { __ow_method, __ow_headers, __ow_path, ...promoted } = args(TRICKY_TEXT);
    expect({ __ow_method, __ow_path }).toEqual({ __ow_method: 'post', __ow_path: '' });
    expect(__ow_headers).toEqual({ 'content-type': 'application/json' });
    expectSameJson(promoted, tricky());
  });

  test.each([
    ['an array 200,000 deep', '['.repeat(200_000) + ']'.repeat(200_000), 'application/json'],
    ['an object 101 deep', '{"a":'.repeat(101) + '1' + '}'.repeat(101), 'application/json'],
    ['a +json body 200,000 deep', '{"":'.repeat(200_000) + '1' + '}'.repeat(200_000), 'application/vnd.api+json'],
  ])('%s is a 400 rejection, as malformed content', (_, body, contentType) => {
    let error: unknown;
    try {
      args(body, contentType);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(WebActionError);
    expect(error).toMatchObject({ status: 400, rejection: true, message: expect.stringMatching(/^The request content was malformed:\nJSON input nested too deeply/) });
  });

  test('a body nested 100 levels deep is taken', () => {
    expect(args('{"a":'.repeat(99) + '[]' + '}'.repeat(99)).a).toBeDefined();
  });
});

/**
 * A document client (the real one, with the platform's marshalling options) whose HTTP requests
 * end in an in-memory table: the marshaller and the wire format run exactly as against DynamoDB.
 */
function memoryDynamo() {
  const items = new Map<string, Record<string, unknown>>();
  const keyOf = (key: Record<string, unknown>) => JSON.stringify(Object.entries(key).sort());
  const requestHandler = {
    async handle(request: { headers: Record<string, string>; body: string | Uint8Array }) {
      const operation = request.headers['x-amz-target'].split('.')[1];
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      const input = JSON.parse(text) as { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
      let output: object;
      if (operation === 'PutItem') {
        const { namespace, key, activationId } = input.Item!;
        items.set(keyOf(key ? { namespace, key } : { namespace, activationId }), input.Item!);
        output = {};
      } else if (operation === 'GetItem') {
        const item = items.get(keyOf(input.Key!));
        output = item ? { Item: item } : {};
      } else {
        throw new Error(`memoryDynamo: no ${operation}`);
      }
      const body = new TextEncoder().encode(JSON.stringify(output));
      return { response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body } };
    },
  };
  const settings = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler };
  const { dynamo } = createAwsClients(settings as AwsSettings);
  return { dynamo, items };
}

describe('the stores', () => {
  test('an entity whose parameters and annotations hold __proto__ and constructor keys comes back as put', async () => {
    const { dynamo } = memoryDynamo();
    const entities = new EntitiesRepository(dynamo, 'entities');
    const doc = { name: 'a', parameters: [{ key: 'constructor', value: tricky() }, { key: '__proto__', value: tricky() }], annotations: [{ key: 'toString', value: tricky() }] };
    await entities.put('guest', 'actions', 'a', doc, 'r1', 1);
    expectSameJson((await entities.get('guest', 'actions', 'a'))!.doc, doc);
  });

  test('an entity stored as a map by an earlier version is still read', async () => {
    const { dynamo, items } = memoryDynamo();
    const entities = new EntitiesRepository(dynamo, 'entities');
    items.set(JSON.stringify([['key', { S: 'actions/old' }], ['namespace', { S: 'guest' }]]), {
      namespace: { S: 'guest' },
      key: { S: 'actions/old' },
      doc: { M: { name: { S: 'old' }, parameters: { L: [{ M: { key: { S: 'p' }, value: { N: '1' } } }] } } },
      revision: { S: 'r0' },
      updated: { N: '5' },
    });
    expect(await entities.get('guest', 'actions', 'old')).toEqual({ doc: { name: 'old', parameters: [{ key: 'p', value: 1 }] }, revision: 'r0', updated: 5 });
  });

  const record = (result: unknown): ActivationRecord => ({
    activationId: 'a'.repeat(32),
    namespace: 'guest',
    name: 'echo',
    version: '0.0.1',
    subject: 'guest',
    publish: false,
    start: 1,
    end: 2,
    duration: 1,
    response: { status: 'success', statusCode: 0, success: true, result },
    logs: [],
    annotations: [{ key: 'constructor', value: tricky() }],
  });

  test('an activation whose result holds __proto__ and constructor keys comes back as stored', async () => {
    const { dynamo } = memoryDynamo();
    const activations = new ActivationsRepository(dynamo, 'activations', 1);
    const stored = record(tricky());
    expect(await activations.complete(stored, 'echo')).toBe(true);
    expectSameJson(await activations.get('guest', stored.activationId), stored);
  });

  test('an activation stored as a map by an earlier version is still read', async () => {
    const { dynamo, items } = memoryDynamo();
    const activations = new ActivationsRepository(dynamo, 'activations', 1);
    items.set(JSON.stringify([['activationId', { S: 'b'.repeat(32) }], ['namespace', { S: 'guest' }]]), {
      namespace: { S: 'guest' },
      activationId: { S: 'b'.repeat(32) },
      state: { S: 'done' },
      record: { M: { activationId: { S: 'b'.repeat(32) }, response: { M: { result: { M: { ok: { BOOL: true } } } } } } },
    });
    expect(await activations.get('guest', 'b'.repeat(32))).toEqual({ activationId: 'b'.repeat(32), response: { result: { ok: true } } });
  });

  test("an alarm's trigger payload with __proto__ and constructor keys comes back as put", async () => {
    const { dynamo } = memoryDynamo();
    const alarms = new AlarmsRepository(dynamo, 'entities');
    const parsed = parseAlarmParams({ feed: 'interval', minutes: 5, trigger_payload: TRICKY_TEXT }, { now: 1_000 });
    if (!parsed.success) throw new Error(parsed.error);
    expectSameJson(parsed.payload, tricky());
    const alarm: Alarm = { triggerNamespace: 'guest', triggerName: 't', ownerUuid: 'u', spec: parsed.spec, payload: parsed.payload, status: 'active', created: 1, updated: 1 };
    await alarms.put(alarm);
    expectSameJson((await alarms.get('guest', 't'))!.payload, tricky());
  });

  test('an alarm payload nested 101 levels deep (a JSON string inside the body) is refused', () => {
    const parsed = parseAlarmParams({ feed: 'interval', minutes: 5, trigger_payload: '{"a":'.repeat(101) + '1' + '}'.repeat(101) }, { now: 1_000 });
    expect(parsed).toEqual({ success: false, error: 'trigger_payload nests more than 100 levels' });
  });
});
