import {
  parseContentType,
  parseWebRoute,
  renderContentType,
  sprayJsonError,
  WebActionError,
  webActionArgs,
  webCorsHeaders,
  type WebRequest,
} from '../../lib/controller/web-request';

const bytes = (text: string) => new TextEncoder().encode(text);
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const NOT_ALLOWED = 'Request defines parameters that are not allowed (e.g., reserved properties).';

function request(overrides: Partial<WebRequest> = {}): WebRequest {
  return { method: 'GET', headers: {}, path: '', query: '', body: new Uint8Array(), ...overrides };
}

function args(overrides: Partial<WebRequest> = {}, options: { raw?: boolean; protectedKeys?: string[]; user?: string } = {}) {
  return webActionArgs(request(overrides), { raw: options.raw ?? false, protectedKeys: options.protectedKeys ?? [], user: options.user });
}

function failure(fn: () => unknown): WebActionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebActionError) return error;
    throw error;
  }
  throw new Error('expected a WebActionError');
}

describe('parseWebRoute', () => {
  test.each([
    ['ns/default/hello', { namespace: 'ns', name: 'hello', extension: 'http', extensionGiven: false, path: '' }],
    ['ns/pkg/hello', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'http', extensionGiven: false, path: '' }],
    ['ns/pkg/hello.http', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'http', extensionGiven: true, path: '' }],
    ['ns/pkg/hello.json', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'json', extensionGiven: true, path: '' }],
    ['ns/pkg/hello.html', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'html', extensionGiven: true, path: '' }],
    ['ns/pkg/hello.svg', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'svg', extensionGiven: true, path: '' }],
    ['ns/pkg/hello.text', { namespace: 'ns', pkg: 'pkg', name: 'hello', extension: 'text', extensionGiven: true, path: '' }],
    // an unknown extension is part of the name, answered as .http (enforceExtension = false)
    ['ns/pkg/hello.xml', { namespace: 'ns', pkg: 'pkg', name: 'hello.xml', extension: 'http', extensionGiven: false, path: '' }],
    ['ns/pkg/t.wxyz.json', { namespace: 'ns', pkg: 'pkg', name: 't.wxyz', extension: 'json', extensionGiven: true, path: '' }],
    ['ns/pkg/a.json.http', { namespace: 'ns', pkg: 'pkg', name: 'a.json', extension: 'http', extensionGiven: true, path: '' }],
    ['ns/pkg/json', { namespace: 'ns', pkg: 'pkg', name: 'json', extension: 'http', extensionGiven: false, path: '' }],
    // the unmatched path, as pekko renders it
    ['ns/default/hello.json/', { namespace: 'ns', name: 'hello', extension: 'json', extensionGiven: true, path: '/' }],
    ['ns/default/hello.json/content', { namespace: 'ns', name: 'hello', extension: 'json', extensionGiven: true, path: '/content' }],
    ['ns/default/hello.text/a/b//c', { namespace: 'ns', name: 'hello', extension: 'text', extensionGiven: true, path: '/a/b//c' }],
    ['ns/default/hello/a%20b/%7e/c+d/%2F/%C3%A9', { namespace: 'ns', name: 'hello', extension: 'http', extensionGiven: false, path: '/a%20b/~/c+d/%2F/%C3%A9' }],
    ["ns/default/hello/x:y@z!$&'()*,;=", { namespace: 'ns', name: 'hello', extension: 'http', extensionGiven: false, path: "/x:y@z!$&'()*,;=" }],
    // segments are decoded before the name check, and Hono's partly decoded path reads the same
    ['my%20ns/my%20pkg/my%20action.json', { namespace: 'my ns', pkg: 'my pkg', name: 'my action', extension: 'json', extensionGiven: true, path: '' }],
    ['my ns/my pkg/my action.json/a b', { namespace: 'my ns', pkg: 'my pkg', name: 'my action', extension: 'json', extensionGiven: true, path: '/a%20b' }],
    ['_/default/hello', { namespace: '_', name: 'hello', extension: 'http', extensionGiven: false, path: '' }],
  ])('%s', (rest, expected) => {
    expect(parseWebRoute(rest)).toEqual(expected);
  });

  test.each([
    ['fewer than three segments', 'ns/pkg'],
    ['a single segment', 'ns'],
    ['an empty name segment', 'ns/pkg/'],
    ['an empty package segment', 'ns//hello'],
    ['a leading slash', '/ns/pkg/hello'],
    ['an invalid namespace', '-ns/pkg/hello'],
    ['an invalid package', 'ns/pkg$/hello'],
    ['an invalid name', 'ns/pkg/hel$lo'],
    ['a name that is only an extension', 'ns/pkg/.json'],
    ['a base name with a trailing space', 'ns/pkg/a%20.json'],
    ['a decoded slash in the name', 'ns/pkg/a%2Fb'],
    ['a malformed escape', 'ns/pkg/a%zzb'],
    ['a malformed escape in the extra path', 'ns/pkg/hello/%g0'],
    ['a name segment longer than 256 characters with its extension', `ns/pkg/${'a'.repeat(252)}.json`],
  ])('rejects %s', (_why, rest) => {
    expect(parseWebRoute(rest)).toBeUndefined();
  });

  test('a 256-character name segment without an extension is accepted', () => {
    expect(parseWebRoute(`ns/pkg/${'a'.repeat(256)}`)?.name).toHaveLength(256);
  });
});

describe('content types as pekko models them', () => {
  test.each([
    ['application/json', 'application/json', 'fixed'],
    ['application/json; charset=utf-8', 'application/json', 'fixed'],
    ['APPLICATION/JSON', 'application/json', 'fixed'],
    ['text/plain', 'text/plain', 'open'],
    ['text/plain;charset=utf-8', 'text/plain; charset=UTF-8', 'open'],
    ['Text/HTML; Charset="latin1"', 'text/html; charset=ISO-8859-1', 'open'],
    ['text/plain; format=flowed; charset=us', 'text/plain; format=flowed; charset=US-ASCII', 'open'],
    ['application/x-www-form-urlencoded; charset=UTF-8', 'application/x-www-form-urlencoded', 'fixed'],
    ['application/vnd.api+json', 'application/vnd.api+json', 'fixed'],
    ['application/hal+json', 'application/hal+json', 'binary'],
    ['application/hal+json; charset=utf-8', 'application/hal+json; charset=UTF-8', 'open'],
    ['image/png', 'image/png', 'binary'],
    ['image/png; charset=utf-8', 'image/png', 'binary'],
    ['text/x-yaml', 'text/x-yaml', 'binary'],
    ['multipart/form-data; boundary=abc', 'multipart/form-data; boundary=abc', 'binary'],
    ['application/octet-stream', 'application/octet-stream', 'binary'],
    ['application/xml; z=1; a="b c"', 'application/xml; a="b c"; z=1', 'open'],
    ['text /html ; charset = utf-8', 'text/html; charset=UTF-8', 'open'],
  ])('%s renders as %s (%s)', (header, rendered, kind) => {
    const parsed = parseContentType(header)!;
    expect(renderContentType(parsed)).toBe(rendered);
    expect(parsed.mediaType.kind).toBe(kind);
  });

  test.each(['', 'json', 'text/', '/html', 'text/ html', 'text/html;', 'text/html; charset', 'multipart/form-data; boundary=a b', 'text/html garbage'])('%j does not parse', (header) => {
    expect(parseContentType(header)).toBeUndefined();
  });
});

describe('webActionArgs: request context', () => {
  test('method lowercase, headers lowercased, path, no user', () => {
    expect(args({ method: 'PATCH', headers: { Accept: '*/*', 'X-Custom': 'v' }, path: '/a/b' })).toEqual({
      __ow_method: 'patch',
      __ow_headers: { accept: '*/*', 'x-custom': 'v' },
      __ow_path: '/a/b',
    });
  });

  test('__ow_user is the authenticated caller', () => {
    expect(args({}, { user: 'guest' })).toEqual({ __ow_method: 'get', __ow_headers: {}, __ow_path: '', __ow_user: 'guest' });
  });

  test.each([
    ['content-length and transfer-encoding are not headers to pekko', { 'content-length': '0', 'transfer-encoding': 'chunked', host: 'h' }, '', { host: 'h' }],
    ['a Content-Type is rendered as pekko renders the entity', { 'content-type': 'text/plain;charset=utf-8' }, 'x', { 'content-type': 'text/plain; charset=UTF-8' }],
    ['application/json loses its charset', { 'content-type': 'application/json; charset=UTF-8' }, '{}', { 'content-type': 'application/json' }],
    ['a body without Content-Type is application/octet-stream', {}, 'x', { 'content-type': 'application/octet-stream' }],
    ['an unparseable Content-Type with a body becomes application/octet-stream', { 'content-type': 'nonsense' }, 'x', { 'content-type': 'application/octet-stream' }],
    ['an unparseable Content-Type without a body stays as sent', { 'content-type': 'nonsense' }, '', { 'content-type': 'nonsense' }],
    ['a Content-Type without a body is kept', { 'content-type': 'text/plain' }, '', { 'content-type': 'text/plain' }],
  ])('%s', (_why, headers, body, expected) => {
    expect(args({ method: 'POST', headers, body: bytes(body) }).__ow_headers).toEqual(expected);
  });
});

describe('webActionArgs: query and body (non-raw)', () => {
  const post = (contentType: string | undefined, body: string | Uint8Array, query = '') =>
    args({ method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, query, body: typeof body === 'string' ? bytes(body) : body });
  const params = (all: Record<string, unknown>) => {
    const { __ow_method: _m, __ow_headers: _h, __ow_path: _p, ...rest } = all;
    return rest;
  };

  test.each([
    ['query parameters are promoted as strings', undefined, '', 'a=b&c=d', { a: 'b', c: 'd' }],
    ['repeated query keys: the last wins', undefined, '', 'a=1&a=2', { a: '2' }],
    ['query decoding: + is a space, escapes are UTF-8', undefined, '', 'q=x+y%21&u=%C3%A9', { q: 'x y!', u: 'é' }],
    ['a query key without = is an empty string', undefined, '', 'flag&k=', { flag: '', k: '' }],
    ['a query value may contain =', undefined, '', 'k=a=b', { k: 'a=b' }],
    ['a JSON object body is promoted', 'application/json', '{"extra":"read all about it","yummy":true}', '', { extra: 'read all about it', yummy: true }],
    ['the body wins over the query', 'application/json', '{"a":"body"}', 'a=query&b=query', { a: 'body', b: 'query' }],
    ['an empty JSON body adds nothing', 'application/json', '', '', {}],
    ['an empty JSON object adds nothing', 'application/json', '{}', '', {}],
    ['a JSON array is __ow_body as is', 'application/json', '[1,"str str",false]', '', { __ow_body: [1, 'str str', false] }],
    ['a JSON string is __ow_body as is', 'application/json', '"this is a string"', '', { __ow_body: 'this is a string' }],
    ['a JSON number is __ow_body as is', 'application/json', '99', '', { __ow_body: 99 }],
    ['JSON true is __ow_body as is', 'application/json', 'true', '', { __ow_body: true }],
    ['JSON null is __ow_body null', 'application/json', 'null', '', { __ow_body: null }],
    ['+json types are parsed as JSON', 'application/cloudevents+json', '{"field1":"value1"}', '', { field1: 'value1' }],
    ['known +json types are parsed as JSON', 'application/merge-patch+json', '{"m":1}', '', { m: 1 }],
    ['application/json with a parameter other than charset is plain text', 'application/json; v=1', '{"a":1}', '', { __ow_body: '{"a":1}' }],
    ['form data is promoted', 'application/x-www-form-urlencoded', 'field1=value1&field2=value+2%21', '', { field1: 'value1', field2: 'value 2!' }],
    ['form data: the last repeated key wins', 'application/x-www-form-urlencoded', 'a=1&a=2', '', { a: '2' }],
    ['an empty form adds nothing', 'application/x-www-form-urlencoded', '', '', {}],
    ['text is __ow_body as a string', 'text/html; charset=utf-8', '1,2,3', '', { __ow_body: '1,2,3' }],
    ['text is read as UTF-8 whatever the charset', 'text/plain; charset=iso-8859-1', 'é', '', { __ow_body: 'é' }],
    ['an empty text body is an empty __ow_body', 'text/plain', '', '', { __ow_body: '' }],
    ['XML is text', 'application/xml', '<a/>', '', { __ow_body: '<a/>' }],
    ['a binary body is base64', 'image/png', PNG, '', { __ow_body: 'iVBORw0KGgo=' }],
    ['a body without Content-Type is base64', undefined, 'hello', '', { __ow_body: 'aGVsbG8=' }],
    ['an unknown text subtype is binary to pekko', 'text/x-yaml', 'a: 1', '', { __ow_body: 'YTogMQ==' }],
    ['multipart is binary', 'multipart/form-data; boundary=x', '--x--', '', { __ow_body: 'LS14LS0=' }],
    ['an empty binary body is an empty __ow_body', 'application/octet-stream', '', '', { __ow_body: '' }],
    ['no body and no Content-Type adds nothing', undefined, '', '', {}],
    ['query and non-object body together', 'text/plain', 'hi', 'a=b', { a: 'b', __ow_body: 'hi' }],
  ])('%s', (_why, contentType, body, query, expected) => {
    expect(params(post(contentType, body, query))).toEqual(expected);
  });

  test('__proto__ in a body is an ordinary key', () => {
    const result = post('application/json', '{"__proto__":{"polluted":true}}');
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('webActionArgs: raw mode', () => {
  const raw = (contentType: string | undefined, body: string | Uint8Array, query = '', protectedKeys: string[] = []) =>
    args(
      { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, query, body: typeof body === 'string' ? bytes(body) : body },
      { raw: true, protectedKeys },
    );

  test.each([
    ['no query, no body: both empty strings', undefined, '', '', { __ow_query: '', __ow_body: '' }],
    ['JSON is base64, never promoted', 'application/json', '{"a":"A","b":"B"}', '', { __ow_query: '', __ow_body: Buffer.from('{"a":"A","b":"B"}').toString('base64') }],
    ['JSON that is not JSON is still base64', 'application/json', '1,2,3', 'key1=value1&key2=value2', { __ow_query: 'key1=value1&key2=value2', __ow_body: 'MSwyLDM=' }],
    ['an empty JSON body is an empty string', 'application/json', '', '', { __ow_query: '', __ow_body: '' }],
    ['other JSON-family types with a fixed charset are text', 'application/merge-patch+json', '{"m":1}', '', { __ow_query: '', __ow_body: '{"m":1}' }],
    ['unknown +json types are binary', 'application/hal+json', '{}', '', { __ow_query: '', __ow_body: 'e30=' }],
    ['form data is the raw string', 'application/x-www-form-urlencoded', 'a=1&b=2', '', { __ow_query: '', __ow_body: 'a=1&b=2' }],
    ['text is the raw string', 'text/plain', 'hello', '', { __ow_query: '', __ow_body: 'hello' }],
    ['binary is base64', 'image/png', PNG, '', { __ow_query: '', __ow_body: 'iVBORw0KGgo=' }],
  ])('%s', (_why, contentType, body, query, expected) => {
    const { __ow_method: _m, __ow_headers: _h, __ow_path: _p, ...rest } = raw(contentType, body, query);
    expect(rest).toEqual(expected);
  });

  test.each([
    ['a=b', 'a=b'],
    ['a=b%20c', 'a=b+c'],
    ['a=b+c', 'a=b+c'],
    ['a=%41%2b', 'a=A%2B'],
    ['k&e=&&x', 'k&e=&&x'],
    ['x=a=b;c', 'x=a%3Db%3Bc'],
    ['u=%C3%A9&p=/?:@', 'u=%C3%A9&p=/?:@'],
    ["s=!$'()*,~._-", "s=!$'()*,~._-"],
  ])('__ow_query %j is re-rendered as %j', (query, rendered) => {
    expect(raw(undefined, '', query).__ow_query).toBe(rendered);
  });

  test('reserved and final keys are not checked', () => {
    const result = raw('application/json', '{"x":1}', '__ow_method=put&x=overridden', ['x']);
    expect(result.__ow_method).toBe('post');
    expect(result.__ow_query).toBe('__ow_method=put&x=overridden');
    expect(result.x).toBeUndefined();
  });
});

describe('webActionArgs: reserved and final parameters', () => {
  test.each(['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'])('query parameter %s is refused', (key) => {
    const error = failure(() => args({ query: `${key}=YYY` }));
    expect([error.status, error.rejection]).toEqual([400, false]);
    expect(error.message).toBe(NOT_ALLOWED);
  });

  test.each(['__ow_method', '__ow_headers', '__ow_path', '__ow_user', '__ow_query', '__ow_body'])('body parameter %s is refused', (key) => {
    const error = failure(() => args({ method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes(JSON.stringify({ [key]: 'YYY' })) }));
    expect([error.status, error.message]).toEqual([400, NOT_ALLOWED]);
  });

  test.each([
    ['a final parameter in the query', { query: 'x=overridden' }],
    ['a final parameter in a JSON body', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes('{"x":"overridden"}') }],
    ['a final parameter in a form body', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bytes('x=1') }],
    ['another final parameter', { query: 'y=overridden' }],
  ])('%s is refused', (_why, overrides) => {
    expect(failure(() => args(overrides, { protectedKeys: ['x', 'y'] })).message).toBe(NOT_ALLOWED);
  });

  test.each([
    ['a parameter that is not final', { query: 'empty=overridden' }, { empty: 'overridden' }],
    ['a non-object body naming a final parameter', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: bytes('x') }, { __ow_body: 'x' }],
  ])('%s is allowed', (_why, overrides, expected) => {
    expect(args(overrides, { protectedKeys: ['x'] })).toMatchObject(expected);
  });
});

describe('webActionArgs: malformed bodies', () => {
  const json = (body: string | Uint8Array) =>
    failure(() => args({ method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? bytes(body) : body }));

  test.each([
    ['{"a":}', "Unexpected character '}' at input index 5 (line 1, position 6), expected JSON Value:\n{\"a\":}\n     ^\n"],
    ['{a:1}', "Unexpected character 'a' at input index 1 (line 1, position 2), expected '\"':\n{a:1}\n ^\n"],
    ['{} x', "Unexpected character 'x' at input index 3 (line 1, position 4), expected end-of-input:\n{} x\n   ^\n"],
    ['  ', 'Unexpected end-of-input at input index 2 (line 1, position 3), expected JSON Value:\n  \n  ^\n'],
    ['tru', 'Unexpected end-of-input at input index 0 (line 1, position 1), expected JSON Value:\ntru\n^\n'],
    ['[1,]', "Unexpected character ']' at input index 3 (line 1, position 4), expected JSON Value:\n[1,]\n   ^\n"],
    ['{"a":1 "b":2}', "Unexpected character '\"' at input index 7 (line 1, position 8), expected '}':\n{\"a\":1 \"b\":2}\n       ^\n"],
    ['"abc', "Unexpected end-of-input at input index 4 (line 1, position 5), expected '\"':\n\"abc\n    ^\n"],
    ['"a\tb"', "Unexpected character '\\u0009' at input index 2 (line 1, position 3), expected '\"':\n\"a?b\"\n  ^\n"],
    ['{"a":1,\n "b":x}', "Unexpected character 'x' at input index 13 (line 2, position 6), expected JSON Value:\n \"b\":x}\n     ^\n"],
    ['-', 'Unexpected end-of-input at input index 1 (line 1, position 2), expected DIGIT:\n-\n ^\n'],
    ['1.', 'Unexpected end-of-input at input index 2 (line 1, position 3), expected DIGIT:\n1.\n  ^\n'],
    ['01', "Unexpected character '1' at input index 1 (line 1, position 2), expected end-of-input:\n01\n ^\n"],
    ['"\\q"', "Unexpected character 'q' at input index 2 (line 1, position 3), expected JSON escape sequence:\n\"\\q\"\n  ^\n"],
    ['"\\u12G4"', "Unexpected character 'G' at input index 5 (line 1, position 6), expected hex digit:\n\"\\u12G4\"\n     ^\n"],
    ['\uFEFF{}', "Unexpected character 'ï' at input index 0 (line 1, position 1), expected JSON Value:\n\uFEFF{}\n^\n"],
  ])('%j is a 400 with spray-json\'s message', (body, detail) => {
    const error = json(body);
    expect([error.status, error.rejection]).toEqual([400, true]);
    expect(error.message).toBe(`The request content was malformed:\n${detail}`);
  });

  test('sprayJsonError accepts what spray-json accepts', () => {
    expect(sprayJsonError(bytes(' {"a": [1, -2.5e+3, true, false, null, "\\u00e9\\n"]} '))).toBeUndefined();
  });

  test('a malformed form body is a 400', () => {
    const error = failure(() => args({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bytes('a=1&b=x y') }));
    expect([error.status, error.rejection]).toEqual([400, true]);
    expect(error.message).toBe("Illegal query: Invalid input ' ' (line 1, column 8): a=1&b=x y");
  });

  test.each(['a=%zz', 'a=#', 'a=é'])('form body %j is refused', (body) => {
    expect(failure(() => args({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: bytes(body) })).status).toBe(400);
  });

  test('a malformed JSON body in raw mode is not parsed', () => {
    expect(args({ method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes('{') }, { raw: true }).__ow_body).toBe('ew==');
  });
});

describe('webCorsHeaders', () => {
  const base = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH' };
  test.each([
    ['no Access-Control-Request-Headers: the default list', {}, 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent'],
    ['an unrelated header does not matter', { 'x-custom-header': 'value' }, 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent'],
    ['Access-Control-Request-Headers is echoed', { 'access-control-request-headers': 'x-custom-header' }, 'x-custom-header'],
    ['a token list is re-rendered comma-space', { 'access-control-request-headers': 'x-a,X-B ,  x-c' }, 'x-a, X-B, x-c'],
    ['an empty request list', { 'access-control-request-headers': '' }, ''],
    ['any header-name case', { 'Access-Control-Request-Headers': 'x-y' }, 'x-y'],
  ])('%s', (_why, headers, allow) => {
    expect(webCorsHeaders(headers)).toEqual({ ...base, 'Access-Control-Allow-Headers': allow });
  });
});
