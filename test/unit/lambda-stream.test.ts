import { streamedResult } from '../../lib/controller/lambda-stream';

// The controller's answer, as the buffered adapter gives it, written for API Gateway's STREAM mode:
// what a client sees must be what the buffered integration gave it.

test.each([
  [
    'a JSON answer keeps its status and content type',
    { statusCode: 200, body: '{"ok":true}', multiValueHeaders: { 'Content-Type': ['application/json'] }, isBase64Encoded: false },
    { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [] },
    '{"ok":true}',
  ],
  [
    'a binary web action answer arrives as its bytes',
    { statusCode: 200, body: Buffer.from([0, 1, 2, 255]).toString('base64'), multiValueHeaders: { 'content-type': ['image/png'] }, isBase64Encoded: true },
    { statusCode: 200, headers: { 'content-type': 'image/png' }, cookies: [] },
    Buffer.from([0, 1, 2, 255]).toString('latin1'),
  ],
  [
    'repeated headers are joined, and cookies are kept apart as the stream format wants',
    { statusCode: 302, body: '', multiValueHeaders: { Vary: ['Origin', 'Accept'], 'Set-Cookie': ['a=1', 'b=2'], Location: ['/x'] } },
    { statusCode: 302, headers: { vary: 'Origin, Accept', location: '/x' }, cookies: ['a=1', 'b=2'] },
    '',
  ],
  [
    'a result with single-valued headers only',
    { statusCode: 404, body: '{"error":"x"}', headers: { 'content-type': 'application/json', 'x-openwhisk-activation-id': 'abc' } },
    { statusCode: 404, headers: { 'content-type': 'application/json', 'x-openwhisk-activation-id': 'abc' }, cookies: [] },
    '{"error":"x"}',
  ],
])('%s', (_title, result, head, body) => {
  const streamed = streamedResult(result);
  expect(streamed.head).toEqual(head);
  expect(streamed.body.toString('latin1')).toBe(body);
});
