import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2, type Attribute } from 'aws-cdk-lib/aws-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { Construct } from 'constructs';
import { configFromEnv } from '../../lib/config';
import { tableDefinitions } from '../../lib/store/tables';

export interface StoreProps {
  /**
   * What happens to the tables when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

function attribute(definition: CreateTableCommandInput, name: string): Attribute {
  const declared = definition.AttributeDefinitions!.find((a) => a.AttributeName === name)!;
  return { name, type: declared.AttributeType === 'N' ? AttributeType.NUMBER : AttributeType.STRING };
}

function keys(definition: CreateTableCommandInput, schema = definition.KeySchema!) {
  const hash = schema.find((k) => k.KeyType === 'HASH')!.AttributeName!;
  const range = schema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return { partitionKey: attribute(definition, hash), ...(range ? { sortKey: attribute(definition, range) } : {}) };
}

/**
 * The subjects, entities and activations tables, built from the same definitions the embedded
 * platform creates (lib/store/tables.ts), so the cloud and local schemas cannot drift. On-demand,
 * encrypted, with point-in-time recovery; activations expire through TTL on `expiresAt`.
 */
export class Store extends Construct {
  public readonly subjects: TableV2;
  public readonly entities: TableV2;
  public readonly activations: TableV2;
  /** Throttle counters and the invoker registry: shared, short-lived state. */
  public readonly coordination: TableV2;

  constructor(scope: Construct, id: string, props: StoreProps = {}) {
    super(scope, id);
    const config = configFromEnv({});
    const byName = new Map(tableDefinitions(config).map((d) => [d.TableName!, d]));
    const table = (logicalId: string, name: string, ttl?: string) => {
      const definition = byName.get(name)!;
      return new TableV2(this, logicalId, {
        ...keys(definition),
        billing: Billing.onDemand(),
        encryption: TableEncryptionV2.awsManagedKey(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
        timeToLiveAttribute: ttl,
        globalSecondaryIndexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
          indexName: index.IndexName!,
          ...keys(definition, index.KeySchema),
        })),
      });
    };
    this.subjects = table('Subjects', config.tables.subjects);
    this.entities = table('Entities', config.tables.entities);
    this.activations = table('Activations', config.tables.activations, 'expiresAt');
    this.coordination = table('Coordination', config.tables.coordination, 'expiresAt');
  }
}
