import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
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
 * write entities and activations, send invocations.
 */
export function grantControllerAccess(grantee: IGrantable & IConstruct, store: Store, bus: Bus): void {
  acknowledgeIndexGrants(grantee, store);
  store.subjects.grantReadData(grantee);
  store.entities.grantReadWriteData(grantee);
  store.activations.grantReadWriteData(grantee);
  store.coordination.grantReadWriteData(grantee);
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
  store.entities.grantReadData(grantee);
  store.activations.grantReadWriteData(grantee);
  store.coordination.grantReadWriteData(grantee);
  bus.invocationQueue.grantConsumeMessages(grantee);
  // The dead-letter drainer: every dead-lettered activation ends in a record.
  bus.deadLetterQueue.grantConsumeMessages(grantee);
}

/** L2 table grants cover the table's own indexes (`<table>/index/*`): the queries the code makes. */
function acknowledgeIndexGrants(grantee: IConstruct, store: Store): void {
  const reason = "The L2 table grant includes that table's own secondary indexes, which the code queries; nothing else.";
  acknowledgeNag(grantee, Object.fromEntries([store.subjects, store.entities, store.activations].map((table) => [wildcardFinding(table, '/index/*'), reason])));
}
