import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { verifySignature, type EndpointCredentials, type SignedRequest } from '../../lib/local/sigv4-verify';

// The embedded endpoint accepts a request only when its SigV4 signature checks out with the
// platform's secret: requests are captured from the real AWS SDK clients and then altered as an
// attacker who knows (or guesses) the access key id, but not the secret, would alter them.

const credentials: EndpointCredentials = { accessKeyId: 'SKYWHISKTEST', secretAccessKey: 'the-platform-secret' };
let server: Server;
let url: string;
const captured: SignedRequest[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end('{"__type":"Captured"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function capture(send: (creds: EndpointCredentials) => Promise<unknown>, creds = credentials): Promise<SignedRequest> {
  captured.length = 0;
  await send(creds).catch(() => undefined);
  expect(captured).toHaveLength(1);
  return captured[0];
}

const dynamo = (creds: EndpointCredentials) => new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 }).send(new ListTablesCommand({}));
const sqs = (creds: EndpointCredentials) => new SQSClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 }).send(new ListQueuesCommand({}));

test.each([
  ['DynamoDB', dynamo],
  ['SQS', sqs],
])('a %s request the SDK signed with the platform’s secret is accepted', async (_, send) => {
  expect(await verifySignature(await capture(send), credentials)).toBe(true);
});

test('a request signed with the right key id and another secret is refused', async () => {
  const request = await capture(dynamo, { accessKeyId: credentials.accessKeyId, secretAccessKey: 'guessed' });
  expect(await verifySignature(request, credentials)).toBe(false);
});

test('a request signed with another key id is refused', async () => {
  const request = await capture(dynamo, { accessKeyId: 'OTHER', secretAccessKey: credentials.secretAccessKey });
  expect(await verifySignature(request, credentials)).toBe(false);
});

test('a signed request whose body was changed afterwards is refused', async () => {
  const request = await capture(dynamo);
  expect(await verifySignature({ ...request, body: Buffer.from('{"ExclusiveStartTableName":"x"}') }, credentials)).toBe(false);
});

test('a signed request whose operation header was changed afterwards is refused', async () => {
  const request = await capture(dynamo);
  const headers = { ...request.headers, 'x-amz-target': 'DynamoDB_20120810.Scan' };
  expect(await verifySignature({ ...request, headers }, credentials)).toBe(false);
});

test('a request that names only the key id, with a made-up signature, is refused', async () => {
  const request = await capture(dynamo);
  const forged = String(request.headers.authorization).replace(/Signature=[0-9a-f]{64}/, `Signature=${'0'.repeat(64)}`);
  expect(await verifySignature({ ...request, headers: { ...request.headers, authorization: forged } }, credentials)).toBe(false);
});

test('a signed request replayed more than 15 minutes later is refused', async () => {
  const request = await capture(dynamo);
  expect(await verifySignature(request, credentials, Date.now() + 16 * 60_000)).toBe(false);
  expect(await verifySignature(request, credentials, Date.now() + 60_000)).toBe(true);
});

test('a request without a SigV4 authorization header is refused', async () => {
  const request = await capture(dynamo);
  const { authorization: _, ...headers } = request.headers;
  expect(await verifySignature({ ...request, headers }, credentials)).toBe(false);
  expect(await verifySignature({ ...request, headers: { ...headers, authorization: 'Basic Zm9vOmJhcg==' } }, credentials)).toBe(false);
});
