import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { configFromEnv } from '../../lib/config';
import { tableDefinitions } from '../../lib/store/tables';
import { SkywhiskStack } from '../../infra/skywhisk-stack';

function synth(props = {}): Template {
  // GIVEN an app that does not bundle assets
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  // WHEN the stack is built
  const stack = new SkywhiskStack(app, 'Test', props);
  return Template.fromStack(stack);
}

describe('Store', () => {
  test('every table has the key schema and indexes the embedded platform creates', () => {
    const template = synth();
    // THEN the keys match lib/store/tables.ts, which the local mode uses
    for (const definition of tableDefinitions(configFromEnv({}))) {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: definition.KeySchema,
        ...(definition.GlobalSecondaryIndexes
          ? { GlobalSecondaryIndexes: definition.GlobalSecondaryIndexes.map((i) => Match.objectLike({ IndexName: i.IndexName, KeySchema: i.KeySchema })) }
          : {}),
      });
    }
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 4);
  });

  test('tables are encrypted, on demand, recoverable and retained by default; activations expire by TTL', () => {
    const template = synth();
    template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'namespace', KeyType: 'HASH' },
        { AttributeName: 'activationId', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
  });

  test('a destroy removal policy reaches the tables', () => {
    synth({ removalPolicy: RemovalPolicy.DESTROY }).allResources('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
  });
});

describe('Bus', () => {
  test('the invocation queue redrives to a dead-letter queue, with the visibility timeout invokers extend', () => {
    const template = synth();
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 30,
      MaximumMessageSize: 1048576,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
  });

  test('both queues refuse requests without TLS', () => {
    const template = synth();
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
  });
});
