import type { EntitiesRepository, EntityChangeListener } from '../../lib/store/entities';
import { EntityCache } from '../../lib/store/entity-cache';

// The invoke path's cache of actions and packages: reads within a few seconds reuse one store
// read, a write through this process shows at once, and a failed read is not remembered.

function fakeRepository(read: () => Promise<unknown>): { repo: EntitiesRepository; reads: () => number; write: EntityChangeListener } {
  let reads = 0;
  const listeners: EntityChangeListener[] = [];
  const repo = {
    get: async () => {
      reads++;
      return read();
    },
    onChange: (listener: EntityChangeListener) => listeners.push(listener),
  } as unknown as EntitiesRepository;
  return { repo, reads: () => reads, write: (ns, type, path) => listeners.forEach((l) => l(ns, type, path)) };
}

const stored = (revision: string) => ({ doc: { name: 'hello' }, revision, updated: 0 });

test('invokes within the window read the action once; after it, again', async () => {
  let now = 0;
  const { repo, reads } = fakeRepository(async () => stored('1'));
  const cache = new EntityCache(repo, 5000, () => now);
  await Promise.all([cache.get('guest', 'actions', 'hello'), cache.get('guest', 'actions', 'hello')]);
  now = 4999;
  await cache.get('guest', 'actions', 'hello');
  expect(reads()).toBe(1);
  now = 5000;
  await cache.get('guest', 'actions', 'hello');
  expect(reads()).toBe(2);
});

test('an update through this process is seen by the next invoke at once', async () => {
  let revision = '1';
  const { repo, write } = fakeRepository(async () => stored(revision));
  const cache = new EntityCache(repo, 5000, () => 0);
  expect((await cache.get('guest', 'actions', 'hello'))?.revision).toBe('1');
  revision = '2';
  write('guest', 'actions', 'hello');
  expect((await cache.get('guest', 'actions', 'hello'))?.revision).toBe('2');
  // Other entities keep their entries.
  write('guest', 'actions', 'other');
  revision = '3';
  expect((await cache.get('guest', 'actions', 'hello'))?.revision).toBe('2');
});

test('a failed read is not remembered', async () => {
  let fail = true;
  const { repo, reads } = fakeRepository(async () => {
    if (fail) throw new Error('ECONNRESET');
    return stored('1');
  });
  const cache = new EntityCache(repo, 5000, () => 0);
  await expect(cache.get('guest', 'actions', 'hello')).rejects.toThrow('ECONNRESET');
  fail = false;
  expect((await cache.get('guest', 'actions', 'hello'))?.revision).toBe('1');
  expect(reads()).toBe(2);
});
