import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Controller, type ControllerProps } from '../../infra/constructs/controller';
import { dataLayerStack } from '../helpers/infra';

// The Controller construct: the function, the REST API in front of it, what it may touch, and its
// cdk-nag findings.

function build(props: Partial<ControllerProps> = {}): { app: App; stack: Stack; template: () => Template } {
  // GIVEN an app that skips bundling, with the data layer
  const { app, stack, store, bus } = dataLayerStack();
  // WHEN
  new Controller(stack, 'Controller', { store, bus, ...props });
  return { app, stack, template: () => Template.fromStack(stack) };
}

test('the controller function runs nodejs22.x on arm64 with source maps and the platform environment', () => {
  const template = build().template();
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    MemorySize: 1024,
    Timeout: 65,
    Environment: {
      Variables: {
        SKYWHISK_SUBJECTS_TABLE: Match.anyValue(),
        SKYWHISK_ENTITIES_TABLE: Match.anyValue(),
        SKYWHISK_ACTIVATIONS_TABLE: Match.anyValue(),
        SKYWHISK_INVOKE_QUEUE: Match.anyValue(),
        SKYWHISK_INVOKE_DLQ: Match.anyValue(),
        SKYWHISK_MAX_BLOCKING_WAIT_MS: '60000',
        NODE_OPTIONS: '--enable-source-maps',
      },
    },
  });
});

test('the API has /, /api/v1, /api/v1/{proxy+}, /api/v1/web/{proxy+}, /api/{proxy+} (API management routes), /invokers, /invokers/details and /runtime/{proxy+}, all proxied to the function, streamed, so a blocking invoke may wait OpenWhisk\'s 60 s past API Gateway\'s 29 s', () => {
  const template = build().template();
  const resources = template.findResources('AWS::ApiGateway::Resource');
  const parts = Object.values(resources).map((r) => (r as { Properties: { PathPart: string } }).Properties.PathPart).sort();
  expect(parts).toEqual(['api', '{proxy+}', 'v1', 'web', '{proxy+}', '{proxy+}', 'invokers', 'details', 'runtime', '{proxy+}'].sort());
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map(
    (m) => (m as { Properties: { HttpMethod: string; Integration: { Type: string; TimeoutInMillis?: number; ResponseTransferMode?: string; Uri: unknown } } }).Properties,
  );
  expect(methods.map((m) => m.HttpMethod).sort()).toEqual(['ANY', 'ANY', 'ANY', 'ANY', 'GET', 'GET', 'GET', 'GET']);
  for (const method of methods) {
    expect(method.Integration.Type).toBe('AWS_PROXY');
    expect(method.Integration.ResponseTransferMode).toBe('STREAM');
    // The function's 65 s and a second: it answers (at the latest a 202) before the integration ends.
    expect(method.Integration.TimeoutInMillis).toBe(66_000);
    expect(JSON.stringify(method.Integration.Uri)).toContain('/response-streaming-invocations');
  }
  template.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['*/*'], EndpointConfiguration: { Types: ['REGIONAL'] } });
});

test('the stage is throttled and writes JSON access logs to a log group with retention', () => {
  const template = build({ throttlingRateLimit: 50, throttlingBurstLimit: 100 }).template();
  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    StageName: 'prod',
    AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"status":"\\$context.status"') },
    MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100, LoggingLevel: 'ERROR' })],
  });
  const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Array<{ Properties: { RetentionInDays?: number } }>;
  expect(groups.length).toBe(2);
  for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
});

test('the function may read subjects, read and write entities, activations and the coordination table, and send invocations: nothing else', () => {
  const template = build().template();
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{ Properties: { PolicyName: string; PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }>;
  const controllerPolicy = policies.find((p) => JSON.stringify(p.Properties.PolicyName).includes('ControllerFunction'))!;
  const actions = controllerPolicy.Properties.PolicyDocument.Statement.map((s) => [s.Action].flat().sort());
  // Exactly what the code sends to each table (lib/store/table-operations.ts), its own log group first.
  const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  const subjects = ['dynamodb:GetItem', 'dynamodb:Query'];
  const entities = ['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];
  const activations = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'];
  const coordination = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'];
  expect(actions).toEqual([logs, subjects, entities, activations, coordination, ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']]);
  // No statement grants every action.
  expect(actions.flat().some((action) => action.endsWith('*'))).toBe(false);
});

test("the blocking wait is at most OpenWhisk's 60 s, the function's and integration's timeouts follow it, and throttles must be positive", () => {
  expect(() => build({ blockingWaitMs: 60_001 })).toThrow(/blockingWaitMs must be .* 60000/);
  expect(() => build({ blockingWaitMs: 500 })).toThrow(/blockingWaitMs/);
  expect(() => build({ throttlingRateLimit: 0 })).toThrow(/positive rate/);
  expect(() => build({ throttlingBurstLimit: 0 })).toThrow(/burst of at least 1/);
  const shorter = build({ blockingWaitMs: 20_000 }).template();
  shorter.hasResourceProperties('AWS::Lambda::Function', { Timeout: 25, Environment: { Variables: Match.objectLike({ SKYWHISK_MAX_BLOCKING_WAIT_MS: '20000' }) } });
  shorter.hasResourceProperties('AWS::ApiGateway::Method', { Integration: Match.objectLike({ TimeoutInMillis: 26_000 }) });
});

test('cdk-nag AwsSolutions checks find nothing unacknowledged', () => {
  const { app } = build();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});
