import type { ActionContainer, ContainerFactory, ContainerSpec } from '../../lib/invoker/container';
import { ContainerPool } from '../../lib/invoker/container-pool';

// The pool's bookkeeping with a factory that makes inert containers (the Docker paths are in test/docker).

class InertFactory implements ContainerFactory {
  readonly name = 'process' as const;
  readonly made: ContainerSpec[] = [];
  readonly destroyed: string[] = [];

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    this.made.push(spec);
    const id = `c${this.made.length}`;
    const destroyed = this.destroyed;
    return {
      id,
      init: async () => ({ statusCode: 200, body: {}, text: '{}' }),
      run: async () => ({ statusCode: 200, body: {}, text: '{}' }),
      collectLogs: async () => ({ lines: [], truncated: false }),
      destroy: async () => {
        destroyed.push(id);
      },
    };
  }
}

const spec = (memoryMb: number): ContainerSpec => ({ kind: 'nodejs:20', memoryMb, env: {}, name: 'test' });

function poolWith(factory: ContainerFactory, memoryBudgetMb: number): ContainerPool {
  return new ContainerPool(factory, { memoryBudgetMb, pauseGraceMs: 60_000, idleTimeoutMs: 600_000, stemCells: [] }, {});
}

test('an action larger than the whole budget fails at once instead of waiting forever', async () => {
  const pool = poolWith(new InertFactory(), 256);
  await expect(pool.acquire('big', spec(512), 1)).rejects.toThrow(/cannot run in a container pool of 256 MB/);
  await pool.shutdown();
});

test('a released container is reused for its key, and the least recently used idle one is evicted first', async () => {
  const factory = new InertFactory();
  const pool = poolWith(factory, 512);
  const a = await pool.acquire('a', spec(256), 1);
  pool.release(a.container, true);
  const b = await pool.acquire('b', spec(256), 1);
  pool.release(b.container, true);
  const again = await pool.acquire('a', spec(256), 1);
  expect(again).toMatchObject({ start: 'warm', container: a.container });
  pool.release(again.container, true);
  // Budget full: c needs room; b was used longest ago.
  const c = await pool.acquire('c', spec(256), 1);
  expect(c.start).toBe('cold');
  await new Promise((r) => setImmediate(r));
  expect(factory.destroyed).toEqual([b.container.id]);
  expect(pool.status().counters.evicted).toBe(1);
  await pool.shutdown();
});

test('when every container is busy, an acquire waits until one is released', async () => {
  const pool = poolWith(new InertFactory(), 256);
  const busy = await pool.acquire('a', spec(256), 1);
  let granted = false;
  const waiting = pool.acquire('b', spec(256), 1).then((lease) => {
    granted = true;
    return lease;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(granted).toBe(false);
  expect(pool.status().queued).toBe(1);
  pool.release(busy.container, true);
  const lease = await waiting;
  expect(lease.start).toBe('cold');
  await pool.shutdown();
});
