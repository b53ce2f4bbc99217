import { addRoute, baseSwagger, matchRoute, operationIdOf, parseWebActionUrl, removeRoute, validateFinal, type RouteSpec } from '../../lib/apis/swagger';

// API documents as OpenWhisk's apimgmt builds them, and how a request finds its route.

const target = (action: string, type = 'http') => ({ namespace: 'ns', package: '', action, url: `https://h/api/v1/web/ns/default/${action}.${type}` });
const route = (relPath: string, verb: string, action: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({ relPath, verb, target: target(action), responseType: 'http', ...extra });

test.each([
  ['get', '/books/{isbn}', 'getBooksIsbn'],
  ['GET', '/world', 'getWorld'],
  ['post', '/a-b/c_d/E', 'postA-bC_dE'],
  ['delete', '/', 'delete'],
])('the operationId of %s %s is %s', (verb, path, id) => {
  expect(operationIdOf(verb, path)).toBe(id);
});

test('adding a route again replaces its operation and its assembly case, not a second one', () => {
  const doc = baseSwagger('/api');
  addRoute(doc, route('/x', 'get', 'one'));
  addRoute(doc, route('/x', 'get', 'two', { secureKey: 's' }));
  expect(doc.paths['/x'].get).toMatchObject({ operationId: 'getX', 'x-openwhisk': { action: 'two' } });
  const cases = doc['x-ibm-configuration']!.assembly!.execute![0]['operation-switch']!.case;
  expect(cases).toHaveLength(1);
  expect(cases[0].execute).toEqual([
    { invoke: { 'target-url': 'https://h/api/v1/web/ns/default/two.http$(request.path)', verb: 'keep' } },
    { 'set-variable': { actions: [{ set: 'message.headers.X-Require-Whisk-Auth', value: 's' }] } },
  ]);
});

test('removing an operation keeps the path until its last one goes, and says when nothing is left', () => {
  const doc = baseSwagger('/api');
  addRoute(doc, route('/x', 'get', 'a'));
  addRoute(doc, route('/x', 'post', 'b'));
  expect(removeRoute(doc, '/x', 'get')).toBe(true);
  expect(Object.keys(doc.paths['/x'])).toEqual(['post']);
  expect(() => removeRoute(doc, '/x', 'get')).toThrow("path '/x' with operation 'get' does not exist in the API");
  expect(removeRoute(doc, '/x', 'post')).toBe(false);
  expect(doc['x-ibm-configuration']!.assembly!.execute![0]['operation-switch']!.case).toEqual([]);
});

test('path parameters need an .http action that gets the path, and a declared parameter', () => {
  const undeclared = addRoute(baseSwagger('/api'), route('/b/{id}', 'get', 'a'));
  expect(() => validateFinal(undeclared)).toThrow("The parameter 'id' defined in path '/b/{id}' does not match");
  const json = addRoute(baseSwagger('/api'), { ...route('/b/{id}', 'get', 'a', { pathParameters: [{ name: 'id' }] }), target: target('a', 'json'), responseType: 'json' });
  expect(() => validateFinal(json)).toThrow("response type of '.http'");
  expect(() => validateFinal(addRoute(baseSwagger('/api'), route('/b/{id}', 'get', 'a', { pathParameters: [{ name: 'id' }] })))).not.toThrow();
  expect(() => validateFinal(baseSwagger('/{api}'))).toThrow('The base path (/{api}) cannot have parameters.');
});

test('a request finds the literal route before a parameterised one, and OPTIONS any route of its path', () => {
  const doc = baseSwagger('/shop');
  addRoute(doc, route('/items/{id}', 'get', 'any', { pathParameters: [{ name: 'id' }] }));
  addRoute(doc, route('/items/special', 'get', 'special'));
  expect(matchRoute(doc, ['items', 'special'], 'get')?.operation['x-openwhisk'].action).toBe('special');
  expect(matchRoute(doc, ['items', '42'], 'get')).toMatchObject({ relPath: '/items/{id}', requestPath: '/shop/items/42' });
  expect(matchRoute(doc, ['items', '42'], 'post')).toBeUndefined();
  expect(matchRoute(doc, ['items', '42'], 'options')?.operation['x-openwhisk'].action).toBe('any');
  expect(matchRoute(doc, ['items'], 'get')).toBeUndefined();
  expect(matchRoute(doc, ['items', '42', 'more'], 'get')).toBeUndefined();
});

test.each([
  ['https://h/api/v1/web/ns/default/a.json', { namespace: 'ns', package: '', action: 'a', responseType: 'json' }],
  ['https://h/api/v1/web/ns/pkg/a.http$(request.path)', { namespace: 'ns', package: 'pkg', action: 'a', responseType: 'http' }],
  ['https://h/api/v1/web/ns/pkg/a', { namespace: 'ns', package: 'pkg', action: 'a', responseType: 'http' }],
  ['https://h/api/v1/namespaces/ns/actions/a', undefined],
])('the web action URL %s names %j', (url, parts) => {
  expect(parseWebActionUrl(url)).toEqual(parts);
});

test("removing a route never reaches a document's inherited members", () => {
  const doc = addRoute(baseSwagger('/api'), route('/x', 'get', 'a'));
  const keys = Object.keys;
  for (const [path, verb] of [
    ['constructor', 'keys'],
    ['__proto__', 'constructor'],
    ['/x', 'constructor'],
    ['/x', 'toString'],
  ] as const) {
    expect(() => removeRoute(doc, path, verb)).toThrow('does not exist in the API');
  }
  expect(() => removeRoute(doc, 'constructor')).toThrow('does not exist in the API');
  expect(Object.keys).toBe(keys);
  expect(typeof ({} as { constructor: unknown }).constructor).toBe('function');
  expect(Object.keys(doc.paths)).toEqual(['/x']);
});

test('a rejected base path leaves no state behind for the next check', () => {
  expect(() => validateFinal(baseSwagger('/{abcdef}'))).toThrow('cannot have parameters');
  expect(() => validateFinal(baseSwagger('/{x}'))).toThrow('cannot have parameters');
});

test.each([
  ['an unknown response type', 'https://h/api/v1/web/ns/default/a.xml'],
  ['a prototype member as response type', 'https://h/api/v1/web/ns/default/a.constructor'],
  ['a broken percent-encoding', 'https://h/api/v1/web/%/default/a.json'],
])('%s is not a web action URL', (_title, url) => {
  expect(parseWebActionUrl(url)).toBeUndefined();
});

test('an imported document shaped otherwise routes what it can and never throws', () => {
  const doc = {
    ...baseSwagger('/odd'),
    'x-ibm-configuration': { assembly: { execute: 'not a list' } },
    paths: {
      '/a': { get: { operationId: 'getA', 'x-openwhisk': target('a') }, trace: { operationId: 'traceA' } },
      '/b': 'not an object',
    },
  } as unknown as ReturnType<typeof baseSwagger>;
  expect(matchRoute(doc, ['a'], 'get')?.operation.operationId).toBe('getA');
  expect(matchRoute(doc, ['a'], 'trace')).toBeUndefined();
  expect(matchRoute(doc, ['b'], 'get')).toBeUndefined();
  expect(() => validateFinal(doc)).not.toThrow();
  expect(() => addRoute(doc, route('/b', 'get', 'b'))).not.toThrow();
  expect(matchRoute(doc, ['b'], 'get')?.operation['x-openwhisk'].action).toBe('b');
});
