import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { cacheParses, type ExpressionParser } from './expression-cache';

/**
 * How many LevelDB table files the embedded DynamoDB keeps open. LevelDB maps each open table file
 * into memory, and dynalite opens it with the default of 1,000, so the endpoint's RSS grew with its
 * data: after a 20,000-activation soak, 164 MB of it was 99 mapped table files (2 MB each).
 * LevelDB raises anything below 74 to 74, which keeps at most 64 tables open (about 128 MB).
 */
export const LEVELDB_MAX_OPEN_FILES = 74;

type DynaliteFactory = (options: object) => Server;
interface LevelIterator {
  close(): Promise<void>;
  return?: () => Promise<void>;
}
type LevelClass = new (location: string, options?: Record<string, unknown>) => {
  status: string;
  get(key: unknown, options?: object): Promise<unknown>;
  getSync(key: unknown, options?: object): unknown;
  keys(options?: object): LevelIterator;
  values(options?: object): LevelIterator;
};

let loaded: DynaliteFactory | undefined;

/** Lets dynalite's streams close the iterator they read (see `loadDynalite`). */
function closable(iterator: LevelIterator): LevelIterator {
  iterator.return ??= () => iterator.close();
  return iterator;
}

/**
 * dynalite (CommonJS, no types), with three changes to the LevelDB database it opens. It offers no
 * option for any: it takes `Level` from the `level` package when its store module loads, so that
 * export is replaced, before the first load, by a subclass. Nothing else in the platform uses `level`.
 * - `LEVELDB_MAX_OPEN_FILES`, which bounds the table files mapped into memory.
 * - Iterators that close. dynalite reads every Query and Scan page from a stream over a LevelDB
 *   iterator and, when the page is full, destroys the stream, which closes the iterator through
 *   `iterator.return()`; abstract-level's iterators have `close()` and no `return()`, so every page
 *   left its iterator open until the database closed, and with it the snapshot of the data and the
 *   table files it read, which compaction then could not free.
 * - Reads on the calling thread (`getSync`). dynalite reads an item before every write and for
 *   every GetItem; the item is almost always in memory, and handing each read to libuv's thread
 *   pool and back cost more of the endpoint's CPU than the read itself.
 * And its expression parses are cached (see expression-cache.ts).
 */
export function loadDynalite(): DynaliteFactory {
  if (loaded) return loaded;
  const dynaliteEntry = require.resolve('dynalite');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const level = require(require.resolve('level', { paths: [dirname(dynaliteEntry)] })) as { Level: LevelClass };
  const Level = level.Level;
  level.Level = class BoundedLevel extends Level {
    constructor(location: string, options: Record<string, unknown> = {}) {
      super(location, { ...options, maxOpenFiles: LEVELDB_MAX_OPEN_FILES });
    }

    get(key: unknown, options?: object): Promise<unknown> {
      if (this.status !== 'open') return super.get(key, options);
      try {
        return Promise.resolve(this.getSync(key, options));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }

    keys(options?: object): LevelIterator {
      return closable(super.keys(options));
    }

    values(options?: object): LevelIterator {
      return closable(super.values(options));
    }
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require(dynaliteEntry) as DynaliteFactory;
  for (const parser of ['conditionParser', 'projectionParser']) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cacheParses(require(join(dirname(dynaliteEntry), 'db', parser)) as ExpressionParser);
  }
  return loaded;
}
