import { createHash, createHmac, timingSafeEqual, type BinaryLike } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface EndpointCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The part of an incoming request a SigV4 signature covers. */
export interface SignedRequest {
  method: string;
  /** Path and query, as the request line has them. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
/** AWS refuses a request whose `X-Amz-Date` is further than this from its clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): BinaryLike {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 (and, with a secret, HMAC-SHA256) from node:crypto, in the shape the signer takes. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

/** One signer per credentials and scope: each caches its derived signing key, most of a signature's cost. */
const signers = new WeakMap<EndpointCredentials, Map<string, SignatureV4>>();

function signerFor(credentials: EndpointCredentials, region: string, service: string, applyChecksum: boolean): SignatureV4 {
  let scopes = signers.get(credentials);
  if (!scopes) signers.set(credentials, (scopes = new Map()));
  const key = `${region}\n${service}\n${applyChecksum}`;
  let signer = scopes.get(key);
  if (!signer) {
    // Scopes come from requests: bounded, so made-up regions cannot grow the map without end.
    if (scopes.size > 64) scopes.clear();
    signer = new SignatureV4({ credentials, region, service, sha256: NodeSha256, uriEscapePath: service !== 's3', applyChecksum });
    scopes.set(key, signer);
  }
  return signer;
}

function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Whether a request carries a valid AWS Signature Version 4 made with these credentials: the
 * request is signed again from the headers it names as signed, its body and its date, with the
 * SDK's own signer, and the two signatures are compared. A key id alone proves nothing.
 */
export async function verifySignature(request: SignedRequest, credentials: EndpointCredentials, now = Date.now()): Promise<boolean> {
  const match = AUTHORIZATION.exec(headerValue(request.headers, 'authorization') ?? '');
  if (!match) return false;
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match;
  if (accessKeyId !== credentials.accessKeyId) return false;
  const amzDate = headerValue(request.headers, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (signedAt === undefined || amzDate?.slice(0, 8) !== scopeDate || Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) return false;

  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return false;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value === undefined) return false;
    headers[name] = value;
  }
  // A signer takes a payload hash header as given: it must be the hash of this body.
  const payloadHash = headers['x-amz-content-sha256'];
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(request.body).digest('hex')) return false;
  const url = new URL(request.url, 'http://endpoint');
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const signer = signerFor(credentials, region, service, 'x-amz-content-sha256' in headers);
  const signed = await signer.sign(
    { method: request.method, protocol: 'http:', hostname: headers.host, path: url.pathname, query, headers, body: request.body },
    { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  return expected !== undefined && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}
