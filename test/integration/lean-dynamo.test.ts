import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createAwsClients, type AwsClients } from '../../lib/aws-clients';
import { configFromEnv } from '../../lib/config';
import { activationResponse, type ActivationRecord } from '../../lib/model/activation';
import { ActivationsRepository } from '../../lib/store/activations';
import { LEAN_USER_AGENT, LeanDynamo } from '../../lib/store/lean-dynamo';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy';

// The lean path for single-item calls, on the wire through a recording proxy in front of the
// embedded endpoint: what it writes the SDK reads back unchanged, a refused condition is the SDK's
// own error, and every other failure is handed to the SDK, which retries by its policy.

const tables = configFromEnv({}).tables;
let endpoint: EmbeddedEndpoint;
let proxy: RecordingProxy;
let lean: AwsClients;
let sdkOnly: AwsClients;

const region = 'us-east-1';
const clientsVia = (url: string, env: NodeJS.ProcessEnv = {}, secret = endpoint.credentials.secretAccessKey) =>
  createAwsClients({ endpoint: url, region, credentials: { accessKeyId: endpoint.credentials.accessKeyId, secretAccessKey: secret } }, env);
const sentBy = (from: number) => proxy.calls.slice(from).map((call) => `${call.operation} ${call.userAgent.startsWith(LEAN_USER_AGENT) ? 'lean' : 'sdk'}`);

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('LEANTEST');
  proxy = await startRecordingProxy(endpoint.url);
  lean = clientsVia(proxy.url);
  sdkOnly = clientsVia(proxy.url, { SKYWHISK_LEAN_DYNAMO: 'false' });
}, 60_000);

afterAll(async () => {
  lean?.dynamo.destroy();
  sdkOnly?.dynamo.destroy();
  await proxy?.close();
  await endpoint?.stop();
});

const everyKind = {
  text: 'naïve ✓',
  empty: '',
  count: 42,
  fraction: -0.125,
  big: 2 ** 52,
  yes: true,
  nothing: null,
  bytes: new Uint8Array([0, 1, 254, 255]),
  nested: { list: [1, 'two', { three: new Uint8Array([3]) }, [false]], map: { deep: { deeper: 'x' } } },
  words: new Set(['a', 'b']),
  numbers: new Set([1, 2.5]),
  blobs: new Set([new Uint8Array([9]), new Uint8Array([8, 7])]),
};

test('an item written the lean way reads back through the SDK unchanged, after an SDK call shared its options', async () => {
  // lib-dynamodb writes into the marshalling options it is given: a Query first is the trap.
  await lean.dynamo.send(new QueryCommand({ TableName: tables.entities, KeyConditionExpression: '#ns = :ns', ExpressionAttributeNames: { '#ns': 'namespace' }, ExpressionAttributeValues: { ':ns': 'lean' } }));
  const from = proxy.calls.length;
  const key = { namespace: 'lean', key: 'actions/every-kind' };
  await lean.dynamo.send(new PutCommand({ TableName: tables.entities, Item: { ...key, ...everyKind, dropped: undefined } }));
  const viaSdk = await sdkOnly.dynamo.send(new GetCommand({ TableName: tables.entities, Key: key, ConsistentRead: true }));
  const viaLean = await lean.dynamo.send(new GetCommand({ TableName: tables.entities, Key: key, ConsistentRead: true }));
  expect(viaSdk.Item).toEqual({ ...key, ...everyKind });
  expect(viaLean.Item).toEqual(viaSdk.Item);
  expect(sentBy(from)).toEqual(['PutItem lean', 'GetItem sdk', 'GetItem lean']);
});

test('an update answers the values it asked for, and a delete its old item', async () => {
  const key = { pk: 'lean', sk: 'counter' };
  const from = proxy.calls.length;
  const first = await lean.dynamo.send(new UpdateCommand({ TableName: tables.coordination, Key: key, UpdateExpression: 'ADD n :one SET label = :label', ExpressionAttributeValues: { ':one': 1, ':label': 'c' }, ReturnValues: 'ALL_NEW' }));
  expect(first.Attributes).toEqual({ ...key, n: 1, label: 'c' });
  const second = await lean.dynamo.send(new UpdateCommand({ TableName: tables.coordination, Key: key, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'UPDATED_NEW' }));
  expect(second.Attributes).toEqual({ n: 2 });
  const removed = await lean.dynamo.send(new DeleteCommand({ TableName: tables.coordination, Key: key, ReturnValues: 'ALL_OLD' }));
  expect(removed.Attributes).toEqual({ ...key, n: 2, label: 'c' });
  const gone = await lean.dynamo.send(new GetCommand({ TableName: tables.coordination, Key: key }));
  expect(gone.Item).toBeUndefined();
  expect(sentBy(from)).toEqual(['UpdateItem lean', 'UpdateItem lean', 'DeleteItem lean', 'GetItem lean']);
});

test("a refused condition is the SDK's ConditionalCheckFailedException, sent once", async () => {
  const item = { namespace: 'lean', key: 'actions/conditional' };
  await lean.dynamo.send(new PutCommand({ TableName: tables.entities, Item: item }));
  const from = proxy.calls.length;
  const refused = lean.dynamo.send(new PutCommand({ TableName: tables.entities, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': 'key' } }));
  await expect(refused).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  expect(sentBy(from)).toEqual(['PutItem lean']);
});

test.each([
  ['a 500 from the endpoint', { kind: 'status', status: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' } }],
  ['throttling', { kind: 'status', status: 400, body: { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'slow down' } }],
  ['a connection dropped before the endpoint got the call', { kind: 'drop-before-forward' }],
] as const)('%s: the SDK sends the call again and it lands', async (_name, fault) => {
  const key = { namespace: 'lean', key: `actions/fault-${proxy.calls.length}` };
  proxy.inject(fault);
  const from = proxy.calls.length;
  await lean.dynamo.send(new PutCommand({ TableName: tables.entities, Item: { ...key, v: 1 } }));
  expect(sentBy(from)).toEqual(['PutItem lean', 'PutItem sdk']);
  const { Item } = await sdkOnly.dynamo.send(new GetCommand({ TableName: tables.entities, Key: key, ConsistentRead: true }));
  expect(Item).toEqual({ ...key, v: 1 });
});

test('a claim whose answer was lost after it landed is still known as its own', async () => {
  const activations = new ActivationsRepository(lean.dynamo, tables.activations, 1);
  const id = `${Date.now().toString().padStart(12, '0')}${'a'.repeat(20)}`;
  proxy.inject({ kind: 'drop-after-forward' });
  const from = proxy.calls.length;
  await expect(activations.claim('lean', id, 'invoker-1/0')).resolves.toBe(true);
  // The SDK's retry is refused by the claim that landed, and the claim's token says it is this one.
  expect(sentBy(from)).toEqual(['PutItem lean', 'PutItem sdk', 'GetItem lean']);
  await expect(activations.claim('lean', id, 'invoker-2/0')).resolves.toBe(false);
});

test('a record whose answer was lost after it landed counts as stored, once', async () => {
  const activations = new ActivationsRepository(lean.dynamo, tables.activations, 1);
  const id = `${Date.now().toString().padStart(12, '0')}${'b'.repeat(20)}`;
  const record: ActivationRecord = {
    activationId: id,
    namespace: 'lean',
    name: 'hello',
    version: '0.0.1',
    subject: 'lean',
    publish: false,
    start: 1,
    end: 2,
    duration: 1,
    response: activationResponse('success', { greeting: 'hi' }),
    logs: ['a line'],
    annotations: [],
  };
  proxy.inject({ kind: 'drop-after-forward' });
  await expect(activations.complete(record, 'hello')).resolves.toBe(true);
  await expect(activations.get('lean', id)).resolves.toEqual(record);
  // A second writer (recovery) finds the record and does not replace it.
  await expect(activations.complete({ ...record, logs: [] }, 'hello')).resolves.toBe(false);
  await expect(activations.get('lean', id)).resolves.toEqual(record);
});

test("any other refusal is the SDK's own error, after the SDK tried too", async () => {
  const from = proxy.calls.length;
  const missing = lean.dynamo.send(new GetCommand({ TableName: 'no-such-table', Key: { namespace: 'x', key: 'y' } }));
  await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
  expect(sentBy(from)).toEqual(['GetItem lean', 'GetItem sdk']);
});

test('a command with fields the lean path does not send goes to the SDK', async () => {
  const from = proxy.calls.length;
  await lean.dynamo.send(new GetCommand({ TableName: tables.entities, Key: { namespace: 'x', key: 'y' }, ReturnConsumedCapacity: 'TOTAL' }));
  expect(sentBy(from)).toEqual(['GetItem sdk']);
});

test('a client without the secret is refused on the lean path too, and writes nothing', async () => {
  const intruder = clientsVia(proxy.url, {}, 'not-the-secret');
  const key = { namespace: 'lean', key: 'actions/intruder' };
  const from = proxy.calls.length;
  try {
    await expect(intruder.dynamo.send(new PutCommand({ TableName: tables.entities, Item: key }))).rejects.toThrow();
  } finally {
    intruder.dynamo.destroy();
  }
  expect(sentBy(from)[0]).toBe('PutItem lean');
  const { Item } = await sdkOnly.dynamo.send(new GetCommand({ TableName: tables.entities, Key: key, ConsistentRead: true }));
  expect(Item).toBeUndefined();
});

test('SKYWHISK_LEAN_DYNAMO=false sends every call through the SDK', async () => {
  const from = proxy.calls.length;
  await sdkOnly.dynamo.send(new PutCommand({ TableName: tables.entities, Item: { namespace: 'lean', key: 'actions/sdk' } }));
  await sdkOnly.dynamo.send(new GetCommand({ TableName: tables.entities, Key: { namespace: 'lean', key: 'actions/sdk' } }));
  expect(sentBy(from)).toEqual(['PutItem sdk', 'GetItem sdk']);
});

test('against AWS itself (no configured endpoint) there is no lean path', async () => {
  const saved = { all: process.env.AWS_ENDPOINT_URL, dynamo: process.env.AWS_ENDPOINT_URL_DYNAMODB };
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  try {
    const client = new DynamoDBClient({ region, credentials: endpoint.credentials });
    await expect(LeanDynamo.forConfiguredEndpoint(client, {})).resolves.toBeUndefined();
    const configured = new DynamoDBClient({ region, credentials: endpoint.credentials, endpoint: proxy.url });
    await expect(LeanDynamo.forConfiguredEndpoint(configured, {})).resolves.toBeInstanceOf(LeanDynamo);
  } finally {
    if (saved.all !== undefined) process.env.AWS_ENDPOINT_URL = saved.all;
    if (saved.dynamo !== undefined) process.env.AWS_ENDPOINT_URL_DYNAMODB = saved.dynamo;
  }
});

test('a binary value of any typed array is sent as all its bytes', async () => {
  const wide = new Uint16Array([1, 258, 65535]);
  await lean.dynamo.send(new PutCommand({ TableName: tables.entities, Item: { namespace: 'lean', key: 'actions/wide', bytes: wide } }));
  const { Item } = await sdkOnly.dynamo.send(new GetCommand({ TableName: tables.entities, Key: { namespace: 'lean', key: 'actions/wide' }, ConsistentRead: true }));
  expect(Buffer.from(Item?.bytes as Uint8Array).equals(Buffer.from(wide.buffer))).toBe(true);
});
