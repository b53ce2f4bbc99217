import type { PoolStatus } from '../../lib/invoker/container-pool';
import type { TestPlatform } from './platform';

/** The invoker's pool, from its status endpoint. */
export async function poolOf(env: TestPlatform): Promise<PoolStatus> {
  return (await env.platform.invokerStatus()).pool;
}

/** Ready stem cells of one kind. */
export function prewarmedOf(pool: PoolStatus, kind: string): number {
  return pool.containers.filter((c) => c.kind === kind && c.state === 'prewarmed').length;
}

/** Container ids the pool holds for one action (`guest/name`). */
export async function containersFor(env: TestPlatform, action: string): Promise<string[]> {
  return (await poolOf(env)).containers.filter((c) => c.action === action).map((c) => c.id!);
}

/** Polls until `check` holds (or fails the test with what was last seen). */
export async function eventually<T>(what: string, read: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}
