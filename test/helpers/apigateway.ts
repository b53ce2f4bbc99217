import type { APIGatewayProxyEvent } from 'aws-lambda';

/** An API Gateway REST API (v1) proxy-integration event, shaped as API Gateway sends it. */
export function restProxyEvent(
  method: string,
  path: string,
  options: { query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'openwhisk-client-js',
    'X-Forwarded-Proto': 'https',
    ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  const query = options.query ?? null;
  return {
    resource: path.startsWith('/api/v1/') ? '/api/v1/{proxy+}' : path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: path.startsWith('/api/v1/') ? { proxy: path.slice('/api/v1/'.length) } : null,
    stageVariables: null,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      extendedRequestId: 'req-ext',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'openwhisk-client-js',
        userArn: null,
      },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: path.startsWith('/api/v1/') ? '/api/v1/{proxy+}' : path,
      stage: 'prod',
    },
  };
}
