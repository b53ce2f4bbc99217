import { ConditionalCheckFailedException, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { convertToAttr, unmarshall, type marshallOptions } from '@aws-sdk/util-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The single-item calls (PutItem, UpdateItem, GetItem, DeleteItem) sent straight over a keep-alive
 * connection, for a configured endpoint (the embedded one, LocalStack). Measured against the
 * embedded endpoint, the SDK's middleware stack (endpoint rules, schema serde, retry, log filter,
 * user agent) costs about 0.45 ms of CPU per call on top of signing and sending; an activation
 * makes one or two such calls on each of its processes. Everything that matters is still the
 * SDK's: its credentials (refreshed by its provider), its SigV4 signer and hash, its marshaller.
 *
 * One attempt only. A refused condition is the SDK's own ConditionalCheckFailedException; any
 * other outcome but success (a broken connection, throttling, a 5xx, a validation error) is
 * handed to the SDK client, which retries by its policy and throws its own errors. That is the
 * retry the SDK would have made itself, so callers keep the guarantees they rely on today (the
 * record and claim tokens recognise a retried write that had landed).
 */
export const LEAN_USER_AGENT = 'skywhisk-lean-dynamo';

type LeanCommand = PutCommand | UpdateCommand | GetCommand | DeleteCommand;
type Target = 'PutItem' | 'UpdateItem' | 'GetItem' | 'DeleteItem';
type WireValue = Record<string, unknown>;

/** Input fields the lean path sends; a command with any other field goes to the SDK. */
const SENT_FIELDS = new Set([
  'TableName',
  'Item',
  'Key',
  'ConditionExpression',
  'UpdateExpression',
  'ExpressionAttributeNames',
  'ExpressionAttributeValues',
  'ReturnValues',
  'ConsistentRead',
  'ProjectionExpression',
]);
/** Fields holding plain JavaScript values that are marshalled to attribute values. */
const MARSHALLED_FIELDS = ['Item', 'Key', 'ExpressionAttributeValues'] as const;

function targetOf(command: unknown): Target | undefined {
  if (command instanceof PutCommand) return 'PutItem';
  if (command instanceof UpdateCommand) return 'UpdateItem';
  if (command instanceof GetCommand) return 'GetItem';
  if (command instanceof DeleteCommand) return 'DeleteItem';
  return undefined;
}

/** Binary values as the JSON protocol carries them (base64), in place: marshall made these objects. */
/** The bytes of any binary view (a Uint16Array's too, not one byte per element), as base64. */
function base64Of(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function binaryToWire(value: AttributeValue): void {
  const wire = value as unknown as WireValue;
  if (value.B !== undefined) wire.B = base64Of(value.B);
  else if (value.BS !== undefined) wire.BS = value.BS.map(base64Of);
  else if (value.M !== undefined) for (const member of Object.values(value.M)) binaryToWire(member);
  else if (value.L !== undefined) for (const member of value.L) binaryToWire(member);
}

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
}

/** Binary values from the wire as the SDK gives them (Uint8Array), in place. */
function binaryFromWire(value: WireValue): void {
  if (typeof value.B === 'string') value.B = bytes(value.B);
  else if (Array.isArray(value.BS)) value.BS = (value.BS as string[]).map(bytes);
  else if (value.M && typeof value.M === 'object') for (const member of Object.values(value.M as Record<string, WireValue>)) binaryFromWire(member);
  else if (Array.isArray(value.L)) for (const member of value.L as WireValue[]) binaryFromWire(member);
}

function attributesFromWire(attributes: Record<string, WireValue> | undefined): Record<string, unknown> | undefined {
  if (!attributes) return undefined;
  for (const value of Object.values(attributes)) binaryFromWire(value);
  return unmarshall(attributes as unknown as Record<string, AttributeValue>);
}

/** Thrown inside the lean path when the SDK should take the call over. */
class HandToSdk extends Error {}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HandToSdk();
  }
}

interface WireResponse {
  status: number;
  requestId: string | undefined;
  body: string;
}

export class LeanDynamo {
  private readonly signer: SignatureV4;
  private readonly agent: HttpAgent;
  private readonly marshalling: marshallOptions;

  constructor(
    client: DynamoDBClient,
    private readonly endpoint: URL,
    region: string,
    marshalling: marshallOptions,
  ) {
    // A copy: lib-dynamodb writes into the options object it was given (convertTopLevelContainer).
    this.marshalling = { ...marshalling, convertTopLevelContainer: false };
    const config = client.config;
    this.signer = new SignatureV4({ credentials: config.credentials, region, service: 'dynamodb', sha256: config.sha256 });
    // As many sockets as the SDK's own handler keeps (50), kept open between calls.
    this.agent = endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 50 }) : new HttpAgent({ keepAlive: true, maxSockets: 50 });
  }

  /**
   * The lean path for this client when its endpoint is configured (`endpoint`, or
   * `AWS_ENDPOINT_URL[_DYNAMODB]`), else undefined: against AWS itself every call stays the SDK's.
   */
  static async forConfiguredEndpoint(client: DynamoDBClient, marshalling: marshallOptions): Promise<LeanDynamo | undefined> {
    const config = client.config;
    let url: string | undefined;
    if (config.isCustomEndpoint && config.endpoint) {
      const { protocol, hostname, port, path } = await config.endpoint();
      url = `${protocol}//${hostname}${port ? `:${port}` : ''}${path}`;
    } else {
      url = await config.serviceConfiguredEndpoint?.();
    }
    if (!url) return undefined;
    return new LeanDynamo(client, new URL(url), await config.region(), marshalling);
  }

  /** Whether this command goes the lean way (a single-item call with only the fields it sends). */
  accepts(command: unknown): command is LeanCommand {
    if (targetOf(command) === undefined) return false;
    return Object.keys((command as LeanCommand).input).every((field) => SENT_FIELDS.has(field));
  }

  /** Sends the command; `viaSdk` is the SDK's own send, for everything but success or a refused condition. */
  async send(command: LeanCommand, viaSdk: () => Promise<unknown>): Promise<unknown> {
    try {
      return await this.attempt(targetOf(command)!, command.input as Record<string, unknown>);
    } catch (error) {
      if (error instanceof HandToSdk) return viaSdk();
      throw error;
    }
  }

  private async attempt(target: Target, input: Record<string, unknown>): Promise<unknown> {
    const wireInput: Record<string, unknown> = { ...input };
    for (const field of MARSHALLED_FIELDS) {
      const values = input[field] as Record<string, unknown> | undefined;
      if (values === undefined) continue;
      // Member by member, as lib-dynamodb marshals these fields (own enumerable members, undefined ones dropped).
      const marshalled: Record<string, AttributeValue> = {};
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined && this.marshalling.removeUndefinedValues) continue;
        const attribute = convertToAttr(value, this.marshalling);
        binaryToWire(attribute);
        marshalled[name] = attribute;
      }
      wireInput[field] = marshalled;
    }
    const body = JSON.stringify(wireInput);
    const response = await this.post(target, body).catch(() => {
      throw new HandToSdk();
    });
    const $metadata = { httpStatusCode: response.status, requestId: response.requestId, attempts: 1, totalRetryDelay: 0 };
    if (response.status === 200) {
      // The write may have landed: an answer that cannot be read is an error, not something to send again.
      let output: { Item?: Record<string, WireValue>; Attributes?: Record<string, WireValue> };
      try {
        output = JSON.parse(response.body) as typeof output;
      } catch (error) {
        throw new Error(`DynamoDB ${target} answered 200 with a body that is not JSON`, { cause: error });
      }
      return { $metadata, Item: attributesFromWire(output.Item), Attributes: attributesFromWire(output.Attributes) };
    }
    if (response.status === 400) {
      const failure = parseJson(response.body) as { __type?: string; message?: string; Message?: string };
      if (failure.__type?.endsWith('#ConditionalCheckFailedException')) {
        throw new ConditionalCheckFailedException({ message: failure.message ?? failure.Message ?? 'The conditional request failed', $metadata });
      }
    }
    throw new HandToSdk();
  }

  private async post(target: Target, body: string): Promise<WireResponse> {
    const { protocol, port, pathname } = this.endpoint;
    // `[::1]` in a URL is `::1` to the socket.
    const hostname = this.endpoint.hostname.replace(/^\[(.*)\]$/, '$1');
    const signed = await this.signer.sign({
      method: 'POST',
      protocol,
      hostname,
      port: port ? Number(port) : undefined,
      path: pathname,
      query: {},
      headers: {
        host: this.endpoint.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${target}`,
        'user-agent': LEAN_USER_AGENT,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    const send = protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<WireResponse>((resolve, reject) => {
      const req = send({ protocol, hostname, port, path: pathname, method: 'POST', headers: signed.headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['x-amzn-requestid'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
