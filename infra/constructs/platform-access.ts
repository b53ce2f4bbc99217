import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { TABLE_OPERATIONS, type TableKey } from '../../lib/store/table-operations';
import { acknowledgeNag, wildcardFinding } from '../nag';
import type { Bus } from './bus';
import type { Store } from './store';

/**
 * The environment every Skywhisk process reads its tables and queues from (lib/config.ts). Endpoints
 * are not set: the SDK's own configuration finds AWS, or LocalStack under cdklocal.
 */
export function platformEnvironment(store: Store, bus: Bus): Record<string, string> {
  return {
    SKYWHISK_SUBJECTS_TABLE: store.subjects.tableName,
    SKYWHISK_ENTITIES_TABLE: store.entities.tableName,
    SKYWHISK_ACTIVATIONS_TABLE: store.activations.tableName,
    SKYWHISK_COORDINATION_TABLE: store.coordination.tableName,
    SKYWHISK_INVOKE_QUEUE: bus.invocationQueue.queueName,
    SKYWHISK_INVOKE_DLQ: bus.deadLetterQueue.queueName,
  };
}

/**
 * What the controller side needs (controller and alarm-fire functions): read subjects, read and
 * write entities, activations and the coordination table, send invocations.
 */
export function grantControllerAccess(grantee: IGrantable & IConstruct, store: Store, bus: Bus): void {
  acknowledgeIndexGrants(grantee, store);
  grantTable(grantee, store.subjects, 'subjects', 'read');
  grantTable(grantee, store.entities, 'entities', 'readWrite');
  grantTable(grantee, store.activations, 'activations', 'readWrite');
  grantTable(grantee, store.coordination, 'coordination', 'readWrite');
  bus.invocationQueue.grantSendMessages(grantee);
}

/**
 * What an invoker needs: read entities (actions, packages of compositions), read and write
 * activations (claims and records) and the coordination table (registry heartbeats, throttle
 * slots), consume invocations (receive, delete, and change visibility for the heartbeat, all in the
 * L2 consume grant) and dead letters.
 */
export function grantInvokerAccess(grantee: IGrantable & IConstruct, store: Store, bus: Bus): void {
  acknowledgeIndexGrants(grantee, store);
  grantTable(grantee, store.entities, 'entities', 'read');
  grantTable(grantee, store.activations, 'activations', 'readWrite');
  grantTable(grantee, store.coordination, 'coordination', 'readWrite');
  bus.invocationQueue.grantConsumeMessages(grantee);
  // The dead-letter drainer: every dead-lettered activation ends in a record.
  bus.deadLetterQueue.grantConsumeMessages(grantee);
}

/**
 * Exactly the operations the code sends to `table` (lib/store/table-operations.ts), reads or reads
 * and writes, on the table and its own indexes: the L2 grants add scans, batches, streams and
 * DescribeTable the code never calls.
 */
export function grantTable(grantee: IGrantable, table: ITableV2, key: TableKey, access: 'read' | 'write' | 'readWrite'): void {
  const { read, write } = TABLE_OPERATIONS[key];
  const operations = [...(access === 'write' ? [] : read), ...(access === 'read' ? [] : write)];
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: operations.map((operation) => `dynamodb:${operation}`), resources: [table.tableArn, `${table.tableArn}/index/*`] }),
  );
}

/** Table grants cover the table's own secondary indexes (`<table>/index/*`): the queries the code makes. */
function acknowledgeIndexGrants(grantee: IConstruct, store: Store): void {
  const reason = "The grant includes that table's own secondary indexes, which the code queries; nothing else.";
  acknowledgeNag(grantee, Object.fromEntries([store.subjects, store.entities, store.activations, store.coordination].map((table) => [wildcardFinding(table, '/index/*'), reason])));
}
