import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PlatformConfig } from '../config';

/** Index of subjects by namespace. */
export const SUBJECTS_BY_NAMESPACE_INDEX = 'byNamespace';

/** Index of activations by `namespace/path` of the action, newest first by id. */
export const ACTIVATIONS_BY_NAME_INDEX = 'byName';

/**
 * Table layouts. In AWS the CDK creates these tables; locally they are created at start when
 * missing. Keys:
 * - subjects: `uuid`, plus an index on `namespace` (the owner of a web action).
 * - entities: `namespace` + `key` (`actions/name`, `actions/pkg/name`, ...): listing a type is a
 *   Query on the partition with a key prefix.
 * - activations: `namespace` + `activationId` (time-ordered ids, so newest-first is a descending
 *   Query and since/upto are key ranges), plus an index on `nameKey` for "activations of one action".
 * - coordination: `pk` + `sk`, short-lived state shared by every controller and invoker: throttle
 *   counters (`throttle#<namespace>`) and the invoker registry (`invokers`); expires through TTL.
 */
export function tableDefinitions(config: PlatformConfig): CreateTableCommandInput[] {
  return [
    {
      TableName: config.tables.subjects,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'uuid', AttributeType: 'S' },
        { AttributeName: 'namespace', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'uuid', KeyType: 'HASH' }],
      // Web actions run as their owner: the identity is found from the namespace in the URL.
      GlobalSecondaryIndexes: [
        {
          IndexName: SUBJECTS_BY_NAMESPACE_INDEX,
          KeySchema: [{ AttributeName: 'namespace', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    {
      TableName: config.tables.entities,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'namespace', AttributeType: 'S' },
        { AttributeName: 'key', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'namespace', KeyType: 'HASH' },
        { AttributeName: 'key', KeyType: 'RANGE' },
      ],
    },
    {
      TableName: config.tables.activations,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'namespace', AttributeType: 'S' },
        { AttributeName: 'activationId', AttributeType: 'S' },
        { AttributeName: 'nameKey', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'namespace', KeyType: 'HASH' },
        { AttributeName: 'activationId', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: ACTIVATIONS_BY_NAME_INDEX,
          KeySchema: [
            { AttributeName: 'nameKey', KeyType: 'HASH' },
            { AttributeName: 'activationId', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    {
      TableName: config.tables.coordination,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    },
  ];
}

/** Creates each table that does not exist yet (local mode only). */
export async function ensureTables(dynamo: DynamoDBDocumentClient, config: PlatformConfig): Promise<void> {
  for (const definition of tableDefinitions(config)) {
    try {
      await dynamo.send(new DescribeTableCommand({ TableName: definition.TableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await dynamo.send(new CreateTableCommand(definition));
    }
  }
}
