import type { APIGatewayProxyResult } from 'aws-lambda';

/** What Lambda's streaming runtime sends ahead of a body (`awslambda.HttpResponseStream.from`). */
export interface StreamedHead {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
}

/**
 * A REST proxy result (what the buffered adapter answers) as a streamed response: its status,
 * headers (one value each, Set-Cookie apart as the stream format wants) and body bytes. The
 * controller answers whole bodies; streaming is only how an answer may come after API Gateway's
 * buffered 29 s. Errors the adapter answers itself (a request it cannot read) come out the same way.
 */
export function streamedResult(result: APIGatewayProxyResult): { head: StreamedHead; body: Buffer } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const add = (name: string, value: string) => {
    const key = name.toLowerCase();
    if (key === 'set-cookie') cookies.push(value);
    else headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  };
  // The adapter answers REST (v1) events with multiValueHeaders; single `headers` otherwise.
  if (result.multiValueHeaders) {
    for (const [name, values] of Object.entries(result.multiValueHeaders)) for (const value of values) add(name, String(value));
  } else {
    for (const [name, value] of Object.entries(result.headers ?? {})) add(name, String(value));
  }
  const body = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
  return { head: { statusCode: result.statusCode, headers, cookies }, body };
}
