import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TABLE_OPERATIONS, type TableKey } from '../../lib/store/table-operations';

// What the stack grants on each table (lib/store/table-operations.ts) against what the code sends:
// each repository's source is read for the DynamoDB calls it makes.

const ROOT = join(__dirname, '../..');

/** Which table each module that talks to DynamoDB works on. */
const TABLE_OF: Record<string, TableKey> = {
  'lib/store/subjects.ts': 'subjects',
  'lib/store/entities.ts': 'entities',
  'lib/alarms/store.ts': 'entities',
  'lib/store/activations.ts': 'activations',
  'lib/store/invoker-registry.ts': 'coordination',
  'lib/store/throttle-counters.ts': 'coordination',
};
/** Helpers that send what their callers ask on the callers' tables; local-only table setup. */
const GENERIC = new Set(['lib/store/query-pages.ts', 'lib/store/chunks.ts', 'lib/store/lean-dynamo.ts', 'lib/store/tables.ts']);

/** DocumentClient and plain client commands, and the helpers that send one, by the IAM action they need. */
const CALLS: Array<[RegExp, string]> = [
  [/new (GetItem|Get)Command\(/, 'GetItem'],
  [/new (PutItem|Put)Command\(|putChunks\(/, 'PutItem'],
  [/new (UpdateItem|Update)Command\(/, 'UpdateItem'],
  [/new (DeleteItem|Delete)Command\(/, 'DeleteItem'],
  [/new QueryCommand\(|queryPages\(|paginateQuery\(/, 'Query'],
  [/new ScanCommand\(|scanPages\(|paginateScan\(/, 'Scan'],
  [/new (BatchGetItem|BatchGet)Command\(/, 'BatchGetItem'],
  [/new (BatchWriteItem|BatchWrite)Command\(/, 'BatchWriteItem'],
  [/new (TransactWriteItems|TransactGetItems|TransactWrite|TransactGet|ExecuteStatement|BatchExecuteStatement)Command\(/, 'not granted anywhere'],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'local' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function operationsIn(source: string): string[] {
  return CALLS.filter(([pattern]) => pattern.test(source)).map(([, action]) => action);
}

const sending = sources(join(ROOT, 'lib'))
  .map((path) => ({ file: relative(ROOT, path), operations: operationsIn(readFileSync(path, 'utf8')) }))
  .filter(({ operations }) => operations.length);

test('every module outside lib/local that sends DynamoDB calls is a known repository of one table (or a generic helper)', () => {
  const unknown = sending.map(({ file }) => file).filter((file) => !(file in TABLE_OF) && !GENERIC.has(file));
  expect(unknown).toEqual([]);
});

test('every repository named here exists and sends something (a renamed one cannot drop out unseen)', () => {
  for (const file of Object.keys(TABLE_OF)) expect(sending.map((module) => module.file)).toContain(file);
});

test('nothing uses the DynamoDBDocument shorthand (dynamo.get(...)), which these checks would not see', () => {
  expect(sending.length).toBeGreaterThan(0);
  const shorthand = sources(join(ROOT, 'lib')).filter((path) => /\bDynamoDBDocument\b(?!Client)/.test(readFileSync(path, 'utf8')));
  expect(shorthand.map((path) => relative(ROOT, path))).toEqual([]);
});

test.each(Object.entries(TABLE_OF))('what %s sends to its table is granted, and nothing is granted that no repository sends', (file) => {
  const table = TABLE_OF[file];
  const granted = [...TABLE_OPERATIONS[table].read, ...TABLE_OPERATIONS[table].write];
  const sent = sending.find((module) => module.file === file)?.operations ?? [];
  expect(sent.filter((operation) => !granted.includes(operation))).toEqual([]);
});

test.each(Object.keys(TABLE_OPERATIONS) as TableKey[])('the %s table is granted only what its repositories send', (table) => {
  const sent = new Set(sending.filter(({ file }) => TABLE_OF[file] === table).flatMap(({ operations }) => operations));
  expect([...TABLE_OPERATIONS[table].read, ...TABLE_OPERATIONS[table].write].filter((operation) => !sent.has(operation))).toEqual([]);
});
