/**
 * JSON whose keys trip a naive copy or marshaller (`constructor`, `__proto__`, `toString`, ...),
 * nested and inside arrays. JSON.parse makes `__proto__` an own key, as in any body a user sends.
 */
export const TRICKY_TEXT =
  '{"constructor":"Ford","__proto__":{"polluted":1,"constructor":{"name":"Object"}},"prototype":{"constructor":null},' +
  '"toString":"text","hasOwnProperty":1,"valueOf":[{"constructor":"in an array","__proto__":[1,{"__proto__":"deep"}]}],' +
  '"nested":{"a":{"toString":{"valueOf":false},"__proto__":null}}}';

export const tricky = (): Record<string, unknown> => JSON.parse(TRICKY_TEXT) as Record<string, unknown>;

/** The keys, at every level, of a value: what `toEqual` alone would not show for `__proto__`. */
function ownKeysDeep(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => ownKeysDeep(v).map((k) => `${i}.${k}`));
  return Object.keys(value).flatMap((key) => [key, ...ownKeysDeep((value as Record<string, unknown>)[key]).map((k) => `${key}.${k}`)]);
}

/** Same JSON, key for key. */
export function expectSameJson(actual: unknown, expected: unknown): void {
  expect(ownKeysDeep(actual).sort()).toEqual(ownKeysDeep(expected).sort());
  expect(actual).toEqual(expected);
}
