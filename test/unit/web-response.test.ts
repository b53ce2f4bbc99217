import type { WebExtension, WebRoute } from '../../lib/controller/web-request';
import { decodeBase64Strict, formatNumber, prettyPrint, webActionResponse, webErrorResponse, type WebResult } from '../../lib/controller/web-response';
import { isBinaryCode } from '../../lib/model/entity';

const TID = 'tid-1234';
const PNG_BASE64 = 'iVBORw0KGgo=';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const JSON_CT = { 'content-type': 'application/json' };
const HTML_CT = { 'content-type': 'text/html; charset=UTF-8' };
const TEXT_CT = { 'content-type': 'text/plain; charset=UTF-8' };
const SVG_CT = { 'content-type': 'image/svg+xml' };

function route(extension: WebExtension): WebRoute {
  return { namespace: 'ns', name: 'action', extension, extensionGiven: true, path: '' };
}

function respond(extension: WebExtension, result: unknown, statusCode: WebResult['statusCode'] = 0, accept?: string) {
  return webActionResponse(route(extension), { statusCode, result }, TID, accept === undefined ? undefined : { accept });
}

/** OpenWhisk's `terminate`: `{error, code}` pretty printed. */
function error(status: number, message: string) {
  return { status, headers: JSON_CT, body: `{\n  "error": "${message}",\n  "code": "${TID}"\n}` };
}

const INVALID = (mediaType: string) => `Response is not valid '${mediaType}'.`;
const ERROR_PROCESSING = 'There was an error processing your request.';
const PROPERTY_NOT_FOUND = 'Response does not include requested property.';
const UNKNOWN_CONTENT_TYPE = 'Response did not specify a known content-type.';
const CONTENT_TYPE_ERROR = 'Response type in header did not match generated content type.';

describe('spray-json printing', () => {
  test.each([
    [{ foobar: 'foobar' }, '{\n  "foobar": "foobar"\n}'],
    [{ b: 1, a: 2, B: 3, _: 4 }, '{\n  "B": 3,\n  "_": 4,\n  "a": 2,\n  "b": 1\n}'],
    [{ '10': 1, '9': 2 }, '{\n  "10": 1,\n  "9": 2\n}'],
    [{}, '{\n\n}'],
    [{ a: {} }, '{\n  "a": {\n\n  }\n}'],
    [[], '[]'],
    [[1, 'a', null, true], '[1, "a", null, true]'],
    [{ a: [1, { y: 2, x: 1 }, [3]] }, '{\n  "a": [1, {\n    "x": 1,\n    "y": 2\n  }, [3]]\n}'],
    [{ s: 'quote " backslash \\ newline \n tab \t ctl \u0001 é' }, '{\n  "s": "quote \\" backslash \\\\ newline \\n tab \\t ctl \\u0001 é"\n}'],
    [{ n: 1e21, m: 1.5e-7, k: 0.000001, i: -3 }, '{\n  "i": -3,\n  "k": 0.000001,\n  "m": 1.5E-7,\n  "n": 1E+21\n}'],
    [{ skip: undefined, keep: 1 }, '{\n  "keep": 1\n}'],
  ])('%j', (value, printed) => {
    expect(prettyPrint(value)).toBe(printed);
  });

  test('insertion order when not sorting', () => {
    expect(prettyPrint({ error: 'x', code: 'y' }, false)).toBe('{\n  "error": "x",\n  "code": "y"\n}');
  });

  test.each([
    [1, '1'],
    [1.5, '1.5'],
    [1e21, '1E+21'],
    [1e-7, '1E-7'],
    [-0.5, '-0.5'],
  ])('formatNumber(%p) = %s', (n, s) => {
    expect(formatNumber(n)).toBe(s);
  });
});

describe('base64 as Java checks and decodes it', () => {
  test.each([
    ['abcd', true],
    ['ab==', true],
    ['abc=', true],
    [' abcd\n', true],
    ['true', true],
    ['1234', true],
    ['abc', false],
    ['a===', false],
    ['hello world', false],
    ['', false],
    ['ab-_', false],
  ])('isBinaryCode(%j) = %p', (text, expected) => {
    expect(isBinaryCode(text)).toBe(expected);
  });

  test.each([
    [PNG_BASE64, PNG],
    ['iVBORw0KGgo', PNG],
    ['aGk=', Buffer.from('hi')],
    ['aGk', Buffer.from('hi')],
    ['aA==', Buffer.from([0x68])],
    ['', Buffer.alloc(0)],
  ])('decodes %j', (text, expected) => {
    expect(decodeBase64Strict(text)).toEqual(expected);
  });

  test.each(['a', 'a=', 'aGk==', 'aA=', 'aGk=x', 'aG k=', ' aGk=', 'aGk=\n', 'ab-_', '=abc', 'é'])('refuses %j', (text) => {
    expect(decodeBase64Strict(text)).toBeUndefined();
  });
});

describe('activation outcome', () => {
  test.each(['http', 'json', 'html', 'svg', 'text'] as const)('developer error on .%s: 400', (ext) => {
    expect(respond(ext, { error: 'bad response type' }, 2)).toEqual(error(400, ERROR_PROCESSING));
  });

  test.each(['http', 'json', 'html', 'svg', 'text'] as const)('whisk error on .%s: 400', (ext) => {
    expect(respond(ext, { error: 'The action did not produce a valid response and exited unexpectedly.' }, 3)).toEqual(error(400, ERROR_PROCESSING));
  });

  test.each(['http', 'json', 'html', 'svg', 'text'] as const)('application error without an error field on .%s: 404', (ext) => {
    expect(respond(ext, { other: 1 }, 1)).toEqual(error(404, PROPERTY_NOT_FOUND));
  });

  test.each([
    ['an array', [1, 2]],
    ['a string', 'text'],
    ['null', null],
    ['undefined', undefined],
  ])('a result that is %s is an internal error (bare 500)', (_why, result) => {
    for (const statusCode of [0, 1, 2] as const) {
      expect(respond('json', result, statusCode)).toEqual({
        status: 500,
        headers: { 'content-type': 'text/plain; charset=UTF-8' },
        body: 'There was an internal server error.',
        bare: true,
      });
    }
  });

  test('the extra path is not projected (OpenWhisk removed projections)', () => {
    const withPath = { ...route('json'), path: '/body/x' };
    expect(webActionResponse(withPath, { statusCode: 0, result: { body: { x: 1 } } }, TID)).toEqual({
      status: 200,
      headers: JSON_CT,
      body: '{\n  "body": {\n    "x": 1\n  }\n}',
    });
  });
});

describe('.json', () => {
  test.each([
    ['an object result', 0, { foobar: 'foobar' }, { status: 200, headers: JSON_CT, body: '{\n  "foobar": "foobar"\n}' }],
    ['keys sorted, nested', 0, { z: { b: 1, a: [1, 2] }, a: null }, { status: 200, headers: JSON_CT, body: '{\n  "a": null,\n  "z": {\n    "a": [1, 2],\n    "b": 1\n  }\n}' }],
    ['an empty object', 0, {}, { status: 200, headers: JSON_CT, body: '{\n\n}' }],
    ['an application error object is answered 200', 1, { error: { message: 'nope' } }, { status: 200, headers: JSON_CT, body: '{\n  "message": "nope"\n}' }],
    ['an application error array', 1, { error: [1, 'a'] }, { status: 200, headers: JSON_CT, body: '[1, "a"]' }],
    ['an application error string', 1, { error: 'bad response type' }, error(400, INVALID('application/json'))],
    ['an application error number', 1, { error: 42 }, error(400, INVALID('application/json'))],
    ['an application error null', 1, { error: null }, error(400, INVALID('application/json'))],
  ])('%s', (_why, statusCode, result, expected) => {
    expect(respond('json', result, statusCode as WebResult['statusCode'])).toEqual(expected);
  });
});

describe('.html and .svg', () => {
  test.each([
    ['html field', { html: '<html>hi</html>' }, { status: 200, headers: HTML_CT, body: '<html>hi</html>' }],
    ['body wins over html', { body: '<b>body</b>', html: '<p>html</p>' }, { status: 200, headers: HTML_CT, body: '<b>body</b>' }],
    ['XML is still text/html', { html: '<?xml version="1.0"?><note/>' }, { status: 200, headers: HTML_CT, body: '<?xml version="1.0"?><note/>' }],
    ['an empty string', { html: '' }, { status: 200, headers: HTML_CT, body: '' }],
    ['a body that is not a string', { body: 5, html: '<p>' }, error(400, INVALID('text/html'))],
    ['a null body hides html', { body: null, html: '<p>' }, error(400, INVALID('text/html'))],
    ['neither field', { text: 'x' }, error(400, INVALID('text/html'))],
  ])('.html: %s', (_why, result, expected) => {
    expect(respond('html', result)).toEqual(expected);
  });

  test('.html: an application error string is the page', () => {
    expect(respond('html', { error: '<p>sorry</p>' }, 1)).toEqual({ status: 200, headers: HTML_CT, body: '<p>sorry</p>' });
  });

  test.each([
    ['svg field', { svg: '<svg><circle r="3"/></svg>' }, { status: 200, headers: SVG_CT, body: '<svg><circle r="3"/></svg>' }],
    ['body wins over svg', { body: '<svg/>', svg: '<svg>x</svg>' }, { status: 200, headers: SVG_CT, body: '<svg/>' }],
    ['not a string', { svg: { x: 1 } }, error(400, INVALID('image/svg+xml'))],
    ['no field', {}, error(400, INVALID('image/svg+xml'))],
  ])('.svg: %s', (_why, result, expected) => {
    expect(respond('svg', result)).toEqual(expected);
  });
});

describe('.text', () => {
  test.each([
    ['text field', { text: 'default text' }, 'default text'],
    ['body wins over text', { body: 'b', text: 't' }, 'b'],
    ['an object body', { body: { b: 'B', a: 'A' } }, '{\n  "a": "A",\n  "b": "B"\n}'],
    ['an array body', { body: ['a'] }, '["a"]'],
    ['true', { body: true }, 'true'],
    ['false', { text: false }, 'false'],
    ['a number', { body: 1 }, '1'],
    ['a fraction', { body: 2.5 }, '2.5'],
    ['a large number as BigDecimal prints it', { body: 1e21 }, '1E+21'],
    ['null', { body: null }, 'null'],
    ['an empty string', { body: '' }, ''],
  ])('%s', (_why, result, body) => {
    expect(respond('text', result)).toEqual({ status: 200, headers: TEXT_CT, body });
  });

  test('neither body nor text: 404', () => {
    expect(respond('text', { html: 'x' })).toEqual(error(404, PROPERTY_NOT_FOUND));
  });

  test.each([
    ['a string error is the text', { error: 'went wrong' }, 'went wrong'],
    ['a number error', { error: 42 }, '42'],
    ['an object error projects body/text', { error: { text: 'nested' } }, 'nested'],
  ])('application error: %s', (_why, result, body) => {
    expect(respond('text', result, 1)).toEqual({ status: 200, headers: TEXT_CT, body });
  });
});

describe('.http: status and empty bodies', () => {
  test.each([
    ['an empty result: 204', {}, { status: 204, headers: {}, body: undefined }],
    ['an empty string body: 204', { body: '' }, { status: 204, headers: {}, body: undefined }],
    ['a null body: 204', { body: null }, { status: 204, headers: {}, body: undefined }],
    ['a redirect', { headers: { location: 'http://openwhisk.org' }, statusCode: 302 }, { status: 302, headers: { location: 'http://openwhisk.org' }, body: undefined }],
    ['a non-standard status', { statusCode: 444 }, { status: 444, headers: {}, body: undefined }],
    ['a status code as a string', { statusCode: '200' }, { status: 200, headers: {}, body: undefined }],
    ['a string status with a sign', { statusCode: '+201' }, { status: 201, headers: {}, body: undefined }],
    ['a whole number written as a float', { statusCode: 200.0 }, { status: 200, headers: {}, body: undefined }],
    ['status 200 with no body stays 200', { statusCode: 200 }, { status: 200, headers: {}, body: undefined }],
    ['Content-Type is dropped without a body', { headers: { 'Set-Cookie': 'a=b', 'content-type': 'application/json' }, statusCode: 201 }, { status: 201, headers: { 'Set-Cookie': 'a=b' }, body: undefined }],
  ])('%s', (_why, result, expected) => {
    expect(respond('http', result)).toEqual(expected);
  });

  test.each([
    ['a string that is not a number', { statusCode: 'xyz' }],
    ['a string with spaces', { statusCode: ' 200' }],
    ['a decimal string', { statusCode: '200.0' }],
    ['a fraction', { statusCode: 200.5 }],
    ['null', { statusCode: null }],
    ['a boolean', { statusCode: true }],
    ['an object', { statusCode: { code: 200 } }],
    ['below 100', { statusCode: 99 }],
    ['above 599', { statusCode: 600 }],
    ['beyond an Int', { statusCode: '99999999999' }],
    ['headers that are not an object', { headers: 'x: y' }],
    ['headers that are an array', { headers: [['x', 'y']] }],
    ['null headers', { headers: null }],
    ['a null header value', { headers: { x: null } }],
    ['an object header value', { headers: { x: { y: 1 } } }],
    ['an array holding null', { headers: { x: ['a', null] } }],
  ])('%s: 400 message/http', (_why, result) => {
    expect(respond('http', result)).toEqual(error(400, INVALID('message/http')));
  });

  test('a 204 with a body has no body', () => {
    expect(respond('http', { statusCode: 204, body: 'ignored' })).toEqual({ status: 204, headers: HTML_CT, body: undefined });
  });
});

describe('.http: headers', () => {
  test.each([
    ['arrays are repeated headers', { 'Set-Cookie': ['a=b', 'c=d; Path = /'] }, { 'Set-Cookie': ['a=b', 'c=d; Path = /'] }],
    ['nested arrays flatten', { 'x-n': ['a', ['b', ['c']]] }, { 'x-n': ['a', 'b', 'c'] }],
    ['an empty array is no header', { 'x-none': [] }, {}],
    ['numbers and booleans become strings', { 'x-int': 3, 'x-float': 1.5, 'x-big': 1e21, 'x-bool': false }, { 'x-big': '1E+21', 'x-bool': 'false', 'x-float': '1.5', 'x-int': '3' }],
    ['names keep their case', { 'X-Custom': 'v', 'x-custom': 'w' }, { 'X-Custom': 'v', 'x-custom': 'w' }],
    ['headers pekko refuses to render are dropped', { 'Content-Length': '5', Date: 'x', Server: 'y', Connection: 'close', 'Transfer-Encoding': 'gzip', 'x-kept': '1' }, { 'x-kept': '1' }],
  ])('%s', (_why, headers, expected) => {
    expect(respond('http', { headers, body: 'ok' })).toEqual({ status: 200, headers: { ...expected, ...HTML_CT }, body: 'ok' });
  });

  test('headers come in spray order (sorted names)', () => {
    expect(Object.keys(respond('http', { headers: { b: '1', a: '2', C: '3' } }).headers)).toEqual(['C', 'a', 'b']);
  });
});

describe('.http: string bodies', () => {
  const http = (contentType: string | undefined, body: string, statusCode?: number) =>
    respond('http', { ...(contentType === undefined ? {} : { headers: { 'Content-Type': contentType } }), ...(statusCode ? { statusCode } : {}), body });

  test.each([
    ['text/html by default', undefined, 'hello world', { status: 200, headers: HTML_CT, body: 'hello world' }, undefined],
    ['a JSON document in a string with no header is html', undefined, '{"field":"value"}', { status: 200, headers: HTML_CT, body: '{"field":"value"}' }, undefined],
    ['application/json keeps a JSON string', 'application/json', '{"field":"value"}', { status: 200, headers: JSON_CT, body: '{"field":"value"}' }, undefined],
    ['application/json with plain text', 'application/json', 'hello world', { status: 200, headers: JSON_CT, body: 'hello world' }, undefined],
    ['application/json with a string that looks like base64 is decoded (legacy)', 'application/json', 'true', { status: 200, headers: JSON_CT, body: Buffer.from([0xb6, 0xbb, 0x9e]) }, undefined],
    ['base64 JSON under a +json type', 'application/json-patch+json', Buffer.from('{"field":"value"}').toString('base64'), { status: 200, headers: { 'content-type': 'application/json-patch+json' }, body: Buffer.from('{"field":"value"}') }, undefined],
    ['a binary type is base64-decoded', 'image/png', PNG_BASE64, { status: 200, headers: { 'content-type': 'image/png' }, body: PNG }, undefined],
    ['base64 without padding', 'image/png', 'iVBORw0KGgo', { status: 200, headers: { 'content-type': 'image/png' }, body: PNG }, undefined],
    ['an unknown +json type is binary', 'application/hal+json', 'e30=', { status: 200, headers: { 'content-type': 'application/hal+json' }, body: Buffer.from('{}') }, undefined],
    ['the charset is always UTF-8', 'text/plain; charset=iso-8859-1', 'é', { status: 200, headers: TEXT_CT, body: 'é' }, undefined],
    ['parameters are kept', 'text/plain; format=flowed', 'x', { status: 200, headers: { 'content-type': 'text/plain; format=flowed; charset=UTF-8' }, body: 'x' }, undefined],
    ['a multipart body is binary', 'multipart/mixed; boundary=b', 'LS1iLS0=', { status: 200, headers: { 'content-type': 'multipart/mixed; boundary=b' }, body: Buffer.from('--b--') }, undefined],
    ['media type names are lowercased', 'Text/CSV', 'a,b', { status: 200, headers: { 'content-type': 'text/csv; charset=UTF-8' }, body: 'a,b' }, undefined],
    ['with a status code', undefined, 'created', { status: 201, headers: HTML_CT, body: 'created' }, 201],
    ['whitespace is a body', undefined, ' ', { status: 200, headers: HTML_CT, body: ' ' }, undefined],
  ])('%s', (_why, contentType, body, expected, statusCode: number | undefined) => {
    expect(http(contentType, body, statusCode)).toEqual(expected);
  });

  test.each([
    ['an unparseable content type', 'xyzbar', 'hello world', UNKNOWN_CONTENT_TYPE],
    ['an empty content type', '', 'hello world', UNKNOWN_CONTENT_TYPE],
    ['invalid base64 for a binary type', 'image/png', 'not base64!', CONTENT_TYPE_ERROR],
    ['an unknown text subtype is binary to pekko', 'text/x-yaml', 'a: 1', CONTENT_TYPE_ERROR],
    ['base64-looking JSON with surrounding space', 'application/json', ' abcd ', CONTENT_TYPE_ERROR],
  ])('%s: 400', (_why, contentType, body, message) => {
    expect(http(contentType, body)).toEqual(error(400, message));
  });
});

describe('.http: JSON bodies', () => {
  const http = (headers: Record<string, unknown> | undefined, body: unknown) => respond('http', { ...(headers ? { headers } : {}), statusCode: 200, body });

  test.each([
    ['no content type', undefined, { field: 'value' }, { status: 200, headers: JSON_CT, body: '{\n  "field": "value"\n}' }],
    ['application/json', { 'content-type': 'application/json' }, { field: 'value' }, { status: 200, headers: JSON_CT, body: '{\n  "field": "value"\n}' }],
    ['application/json with a charset', { 'content-type': 'application/json; charset=utf-8' }, { a: 1 }, { status: 200, headers: JSON_CT, body: '{\n  "a": 1\n}' }],
    ['a known +json type', { 'content-type': 'application/json-patch+json' }, { a: 1 }, { status: 200, headers: { 'content-type': 'application/json-patch+json' }, body: '{\n  "a": 1\n}' }],
    ['an unknown +json type', { 'content-type': 'application/hal+json' }, { a: 1 }, { status: 200, headers: { 'content-type': 'application/hal+json' }, body: '{\n  "a": 1\n}' }],
    ['a +json type with a charset loses it', { 'content-type': 'application/hal+json; charset=utf-8' }, { a: 1 }, { status: 200, headers: { 'content-type': 'application/hal+json' }, body: '{\n  "a": 1\n}' }],
    ['a number', undefined, 3, { status: 200, headers: JSON_CT, body: '3' }],
    ['false', undefined, false, { status: 200, headers: JSON_CT, body: 'false' }],
    ['an array', undefined, [1, { b: 2, a: 1 }], { status: 200, headers: JSON_CT, body: '[1, {\n  "a": 1,\n  "b": 2\n}]' }],
    ['other headers are kept', { 'x-a': 'b' }, { a: 1 }, { status: 200, headers: { 'x-a': 'b', ...JSON_CT }, body: '{\n  "a": 1\n}' }],
  ])('%s', (_why, headers, body, expected) => {
    expect(http(headers, body)).toEqual(expected);
  });

  test.each([
    ['text/html', { 'content-type': 'text/html' }],
    ['an unparseable content type', { 'content-type': 'xyzbar' }],
    ['application/json with a parameter', { 'content-type': 'application/json; version=1' }],
    ['a +json type with a parameter', { 'content-type': 'application/hal+json; version=1' }],
  ])('%s: 400', (_why, headers) => {
    expect(http(headers, { field: 'value' })).toEqual(error(400, CONTENT_TYPE_ERROR));
  });

  test('the first Content-Type header counts', () => {
    expect(http({ 'content-type': ['application/json', 'text/html'] }, { a: 1 })).toEqual({ status: 200, headers: JSON_CT, body: '{\n  "a": 1\n}' });
  });
});

describe('.http: application errors', () => {
  test.each([
    ['an http response in error', { error: { statusCode: 200, body: 'no hello for you' } }, { status: 200, headers: HTML_CT, body: 'no hello for you' }],
    ['an error status', { error: { statusCode: 418, headers: { 'x-a': '1' }, body: { reason: 'teapot' } } }, { status: 418, headers: { 'x-a': '1', ...JSON_CT }, body: '{\n  "reason": "teapot"\n}' }],
    ['an empty error object', { error: {} }, { status: 204, headers: {}, body: undefined }],
    ['an error string', { error: 'bad' }, error(400, INVALID('message/http'))],
  ])('%s', (_why, result, expected) => {
    expect(respond('http', result, 1)).toEqual(expected);
  });
});

describe('content negotiation with the Accept header', () => {
  const notAcceptable = (alternative: string) => ({
    status: 406,
    headers: JSON_CT,
    body: JSON.stringify({ error: `Resource representation is only available with these types:\n${alternative}`, code: TID }),
    bare: true,
  });

  test.each([
    ['.http html refused to application/json', 'http', { body: 'Plain text' }, 'application/json', notAcceptable('text/html; charset=UTF-8')],
    ['.html refused to text/xml', 'html', { html: '<x/>' }, 'text/xml', notAcceptable('text/html; charset=UTF-8')],
    ['.json refused to text/html', 'json', { a: 1 }, 'text/html', notAcceptable('application/json')],
    ['.text offers text/plain', 'text', { text: 'x' }, 'application/json', notAcceptable('text/plain')],
    ['.svg refused to text/*', 'svg', { svg: '<svg/>' }, 'text/*', notAcceptable('image/svg+xml')],
    ['q=0 refuses', 'json', { a: 1 }, 'application/json;q=0', notAcceptable('application/json')],
    ['a specific q=0 beats a range', 'html', { html: 'x' }, 'text/*, text/html;q=0', notAcceptable('text/html; charset=UTF-8')],
    ['range parameters must match', 'html', { html: 'x' }, 'text/html;level=1', notAcceptable('text/html; charset=UTF-8')],
    ['errors are negotiated too', 'json', { error: 'x' }, 'text/html', notAcceptable('application/json')],
    ['a binary .http body', 'http', { headers: { 'content-type': 'image/png' }, body: PNG_BASE64 }, 'image/jpeg', notAcceptable('image/png')],
  ])('%s', (_why, ext, result, accept, expected) => {
    expect(respond(ext as WebExtension, result, 0, accept)).toEqual(expected);
  });

  test.each([
    ['*/*', 'json', { a: 1 }],
    ['* alone', 'json', { a: 1 }],
    ['application/*', 'json', { a: 1 }],
    ['image/*', 'svg', { svg: '<svg/>' }],
    ['text/html, application/json;q=0.9', 'json', { a: 1 }],
    ['text/html;charset=iso-8859-1 (charset ignored)', 'html', { html: 'x' }],
    ['TEXT/HTML', 'html', { html: 'x' }],
    ['an empty header', 'json', { a: 1 }],
    ['an unparseable header is ignored', 'json', { a: 1 }],
    ['a q above 1 makes the header unparseable', 'json', { a: 1 }],
    ['text/*', 'text', { text: 'x' }],
  ])('accepted: %s', (accept, ext, result) => {
    const header = { '* alone': '*', 'an empty header': '', 'an unparseable header is ignored': 'application/json garbage', 'a q above 1 makes the header unparseable': 'text/html;q=2' }[
      accept
    ] ?? accept.replace(/ \(.*\)$/, '');
    expect(respond(ext as WebExtension, result, 0, header).status).toBe(200);
  });

  test('responses without an entity ignore Accept', () => {
    expect(respond('http', { statusCode: 201 }, 0, 'application/json')).toEqual({ status: 201, headers: {}, body: undefined });
    expect(respond('http', {}, 0, 'application/json').status).toBe(204);
  });

  test('without options, nothing is negotiated', () => {
    expect(respond('http', { body: 'Plain text' }).status).toBe(200);
  });
});

describe('webErrorResponse', () => {
  test.each([
    [401, 'Authentication is possible but has failed or not yet been provided.', false, '{\n  "error": "Authentication is possible but has failed or not yet been provided.",\n  "code": "tid-1234"\n}'],
    [202, 'Response not yet ready.', false, '{\n  "error": "Response not yet ready.",\n  "code": "tid-1234"\n}'],
    [404, 'The requested resource could not be found.', true, '{"error":"The requested resource could not be found.","code":"tid-1234"}'],
    [400, 'The request content was malformed:\nx', true, '{"error":"The request content was malformed:\\nx","code":"tid-1234"}'],
  ])('%d %j', (status, message, compact, body) => {
    expect(webErrorResponse(status, message, TID, compact)).toEqual({ status, headers: JSON_CT, body });
  });
});
