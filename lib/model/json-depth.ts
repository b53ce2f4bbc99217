/**
 * How deeply a body a user sends may nest objects and arrays: every path that takes JSON (REST
 * bodies, invoke payloads, trigger fires, web action bodies) refuses deeper input with a 400, since
 * serializing it again (for the queue, the store) would overflow the stack.
 */
export const MAX_JSON_NESTING = 100;

/**
 * Whether `value` nests objects and arrays more than `limit` levels deep (`{}` is one level).
 * Iterative, so hostile input cannot overflow the stack while it is measured.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}
