import { request, Agent } from 'node:http';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { startEmbeddedEndpoint, type EmbeddedEndpoint } from '../helpers/endpoint';

// The embedded endpoint checks the signature of the first request on each connection and then
// trusts that connection (only the process that opened it can write to it). An attacker's own
// connections never pass that check, however many of the platform's connections already have.

let endpoint: EmbeddedEndpoint;

beforeAll(async () => {
  endpoint = await startEmbeddedEndpoint('ENDPOINTAUTHTEST');
}, 60_000);

afterAll(async () => {
  await endpoint?.stop();
});

function forged(agent: Agent, keyId: string): Promise<{ status?: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const body = JSON.stringify({});
    const url = new URL(endpoint.url);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          'x-amz-date': date,
          authorization: `AWS4-HMAC-SHA256 Credential=${keyId}/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: text, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('after the platform’s own connections are trusted, a forged request on a new connection is still refused, and its connection closed', async () => {
  // The platform's client: its connection passes the check and is kept alive.
  const { TableNames } = await endpoint.clients.dynamo.send(new ListTablesCommand({}));
  expect(TableNames?.length).toBeGreaterThan(0);
  expect((await endpoint.clients.dynamo.send(new ListTablesCommand({}))).TableNames).toEqual(TableNames);

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (const keyId of ['ENDPOINTAUTHTEST', 'SOMEONEELSE']) {
    const first = await forged(agent, keyId);
    expect(first).toMatchObject({ status: 403, body: expect.stringContaining('UnrecognizedClientException'), connection: 'close' });
    // The same agent again: a fresh connection, refused again.
    expect(await forged(agent, keyId)).toMatchObject({ status: 403 });
  }
  agent.destroy();
});
