/**
 * Copying user JSON without losing keys or polluting prototypes. `JSON.parse` makes every key an
 * own property, `__proto__` included; `target[key] = value` and `Object.assign` instead set the
 * target's prototype for `__proto__` (and drop the key), so user objects are copied key by key with
 * `Object.defineProperty`. Spread (`{...object}`) and `Object.fromEntries` define properties too,
 * and are safe.
 */

/** Defines `key` as an own, enumerable data property of `target`, even when it is `__proto__`. */
export function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
