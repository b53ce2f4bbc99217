import type { Command } from 'commander';
import type { Api } from './api';
import { annotation, type KeyValue } from './context';
import { table } from './output';

export type Collection = 'actions' | 'packages' | 'triggers' | 'rules';

/** An entity as list calls return it. */
export interface Brief {
  namespace: string;
  name: string;
  publish?: boolean;
  annotations?: KeyValue[];
  status?: string;
}

export interface ListFlags {
  limit?: string;
  skip?: string;
  nameSort?: boolean;
}

export function withListOptions(command: Command): Command {
  return command
    .option('--limit <n>', 'how many to list (the API host caps it at 200)')
    .option('--skip <n>', 'how many to skip')
    .option('--name-sort', 'sort by name instead of by update time');
}

/** GETs one page of a collection, at `path` or in `namespace` (the configured one when absent). */
export async function fetchList(api: Api, collection: Collection, flags: ListFlags, where: { namespace?: string; path?: string } = {}): Promise<Brief[]> {
  const path = where.path ?? api.collectionPath(collection, where.namespace);
  const { body } = await api.request('GET', path, { query: { limit: flags.limit, skip: flags.skip } });
  const list = body as Brief[];
  return flags.nameSort ? [...list].sort((a, b) => fullName(a).localeCompare(fullName(b))) : list;
}

function fullName(entity: Brief): string {
  return `/${entity.namespace}/${entity.name}`;
}

function row(collection: Collection, entity: Brief): string[] {
  const cells = [fullName(entity), entity.publish ? 'shared' : 'private'];
  if (collection === 'actions') cells.push(String(annotation(entity, 'exec') ?? ''));
  if (collection === 'rules' && entity.status) cells.push(entity.status);
  return cells;
}

/** wsk's list output: the collection's name, then one line per entity. */
export function printList(collection: Collection, list: Brief[]): void {
  console.log(collection);
  if (list.length > 0) console.log(table(list.map((entity) => row(collection, entity))));
}
