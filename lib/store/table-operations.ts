/**
 * The DynamoDB operations the code sends to each table, as IAM names them, split into reads and
 * writes: what the stack grants (infra/constructs/platform-access.ts), and no more. A test reads
 * the repositories (test/unit/table-operations.test.ts) and fails when one sends an operation that
 * is not listed here, so a grant cannot fall behind the code.
 */
export interface TableOperations {
  read: readonly string[];
  write: readonly string[];
}

export type TableKey = 'subjects' | 'entities' | 'activations' | 'coordination';

export const TABLE_OPERATIONS: Record<TableKey, TableOperations> = {
  // Keys by uuid; web actions find their owner through the namespace index.
  subjects: { read: ['GetItem', 'Query'], write: ['PutItem', 'UpdateItem'] },
  // Entities, their code chunks and the alarms feed's schedules; sequences check their components in batches.
  entities: { read: ['GetItem', 'Query', 'BatchGetItem'], write: ['PutItem', 'UpdateItem', 'DeleteItem'] },
  // Claims and records (and their chunks); listings through the name index.
  activations: { read: ['GetItem', 'Query'], write: ['PutItem'] },
  // Throttle counters, slots and shares, and the invoker registry; the slot reconciler scans.
  coordination: { read: ['GetItem', 'Query', 'Scan'], write: ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'] },
};
