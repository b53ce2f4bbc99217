import { ConditionalCheckFailedException, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The embedded endpoint answers repeated expressions from a cache of their parses
// (lib/local/expression-cache.ts). Whatever it caches, every call must be judged by its own
// names and values, exactly as DynamoDB judges it, however often the same text came before.

let endpoint: EmbeddedEndpoint;
const TABLE = 'expressions';

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('expressions-test');
  await endpoint.clients.dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}, 60_000);
afterAll(() => endpoint?.stop());

const put = (sk: string, state: string) => endpoint.clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk, state } }));

/** The same conditional write, text for text, with `expected` as the state it requires. */
async function replaceIf(sk: string, expected: string): Promise<'written' | 'refused'> {
  try {
    await endpoint.clients.dynamo.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: 'p', sk, state: 'done' },
        ConditionExpression: 'attribute_not_exists(pk) OR #s = :expected',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':expected': expected },
      }),
    );
    return 'written';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return 'refused';
    throw error;
  }
}

const errorOf = (promise: Promise<unknown>) => promise.then(() => 'accepted', (error: Error) => `${error.name}: ${error.message}`);

test.each([
  ['a write that repeats a condition with the value it holds is written', 'running', 'running', 'written'],
  ['the same condition text with another value is judged by that value, and refused', 'running', 'queued', 'refused'],
  ['and written again when its value matches once more', 'queued', 'queued', 'written'],
])('%s', async (_, stored, expected, outcome) => {
  const sk = `${stored}-${expected}-${Math.random()}`;
  await put(sk, stored);
  // Twice over, so the second is answered from the cache if the first was not.
  expect(await replaceIf(sk, expected)).toBe(outcome);
  await put(sk, stored);
  expect(await replaceIf(sk, expected)).toBe(outcome);
});

test('a condition naming an attribute by another placeholder is judged by that attribute', async () => {
  await endpoint.clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 'names', state: 'running', owner: 'me' } }));
  const condition = (attribute: string) =>
    endpoint.clients.dynamo.send(
      new UpdateCommand({ TableName: TABLE, Key: { pk: 'p', sk: 'names' }, UpdateExpression: 'SET touched = :t', ConditionExpression: '#a = :v', ExpressionAttributeNames: { '#a': attribute }, ExpressionAttributeValues: { ':v': 'me', ':t': true } }),
    );
  expect(await errorOf(condition('owner'))).toBe('accepted');
  expect(await errorOf(condition('state'))).toMatch(/^ConditionalCheckFailedException/);
});

test('a placeholder the expression never uses is refused every time, not only the first', async () => {
  const send = () =>
    endpoint.clients.dynamo.send(
      new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 'unused', state: 'x' }, ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeNames: { '#never': 'state' } }),
    );
  const first = await errorOf(send());
  expect(first).toMatch(/^ValidationException: Value provided in ExpressionAttributeNames unused in expressions: keys: \{#never\}/);
  expect(await errorOf(send())).toBe(first);
});

test('a placeholder used once it is named is accepted after the same text was refused without it', async () => {
  const send = (names?: Record<string, string>) =>
    endpoint.clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: `named-${Math.random()}`, state: 'x' }, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: names }));
  expect(await errorOf(send())).toMatch(/^ValidationException: .*#k/);
  expect(await errorOf(send({ '#k': 'pk' }))).toBe('accepted');
});

test('a syntax error is refused each time it is sent', async () => {
  const send = () => endpoint.clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { pk: 'p', sk: 'syntax', state: 'x' }, ConditionExpression: 'attribute_not_exists(pk) OR OR' }));
  const first = await errorOf(send());
  expect(first).toMatch(/^ValidationException: Invalid ConditionExpression: Syntax error/);
  expect(await errorOf(send())).toBe(first);
});

test('a key condition and a projection repeated with other values read what those values select', async () => {
  await put('alpha', 'a');
  await put('beta', 'b');
  const query = (prefix: string) =>
    endpoint.clients.dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :p AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':p': 'p', ':prefix': prefix }, ProjectionExpression: 'sk' }));
  expect((await query('al')).Items).toEqual([{ sk: 'alpha' }]);
  expect((await query('be')).Items).toEqual([{ sk: 'beta' }]);
  const get = (attribute: string) => endpoint.clients.dynamo.send(new GetCommand({ TableName: TABLE, Key: { pk: 'p', sk: 'alpha' }, ProjectionExpression: '#a', ExpressionAttributeNames: { '#a': attribute } }));
  expect((await get('state')).Item).toEqual({ state: 'a' });
  expect((await get('sk')).Item).toEqual({ sk: 'alpha' });
});

test('a key condition with the value first reads the same items each time it is sent', async () => {
  await put('gamma', 'g');
  const query = () =>
    endpoint.clients.dynamo.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: ':p = pk AND :low < sk', ExpressionAttributeValues: { ':p': 'p', ':low': 'gamma' }, ProjectionExpression: 'sk' }));
  const first = (await query()).Items;
  expect(first?.map((item) => item.sk)).not.toContain('gamma');
  expect(first?.length).toBeGreaterThan(0);
  expect((await query()).Items).toEqual(first);
});

test('a condition whose placeholder another expression of the request used first still counts it used next time', async () => {
  await put('shared', 'running');
  const update = (expression: string) =>
    errorOf(
      endpoint.clients.dynamo.send(
        new UpdateCommand({ TableName: TABLE, Key: { pk: 'p', sk: 'shared' }, UpdateExpression: expression, ConditionExpression: 'attribute_exists(#s)', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':v': 'running' } }),
      ),
    );
  expect(await update('SET #s = :v')).toBe('accepted');
  expect(await update('SET touchedBy = :v')).toBe('accepted');
});
