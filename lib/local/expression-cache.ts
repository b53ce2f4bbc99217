/**
 * A cache in front of dynalite's expression parsers. dynalite parses every ConditionExpression (and
 * ProjectionExpression) with a PEG parser on every call; the platform sends the same few
 * expressions with the same constant values over and over (a record's `attribute_not_exists(...)
 * OR #s = :running`), and measured on the embedded endpoint that parse was about a seventh of its
 * CPU on a store-heavy load. A parse is a function of the expression and the names and values it
 * resolves; the only other thing it does is strike the names and values it used off the context's
 * "unused" lists, which a hit replays.
 *
 * Only parses whose results dynalite never changes are cached: update expressions are not (it
 * writes resolved values into their sections as it applies them), nor key conditions (it turns
 * `:v = #k` around in place).
 */

interface ParseContext {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames: Record<string, boolean>;
  unusedAttrVals: Record<string, boolean>;
  isKeyCondition?: boolean;
}

export interface ExpressionParser {
  parse(expression: string, options: { context: ParseContext }): unknown;
}

interface Parsed {
  result: unknown;
  usedNames: string[];
  usedValues: string[];
}

/** Entries kept at most; past it the cache starts over (the platform uses a few dozen). */
export const EXPRESSION_CACHE_ENTRIES = 1000;

/** Makes `parser.parse` answer repeated parses from a cache. */
export function cacheParses(parser: ExpressionParser): void {
  const parse = parser.parse.bind(parser);
  const cache = new Map<string, Parsed>();
  parser.parse = (expression, options) => {
    const context = options.context;
    // dynalite rewrites a key condition's tree in place (and a Query's filter is parsed as one):
    // those are parsed afresh each time.
    if (context.isKeyCondition) return parse(expression, options);
    const key = JSON.stringify([expression, context.attrNames ?? null, context.attrVals ?? null]);
    let parsed = cache.get(key);
    if (!parsed) {
      // Parsed against lists of every placeholder, so what it used is known whatever another
      // expression of the same request used first. A syntax error throws, and is not cached.
      const names = Object.keys(context.attrNames ?? {});
      const values = Object.keys(context.attrVals ?? {});
      const unusedAttrNames = Object.fromEntries(names.map((name) => [name, true]));
      const unusedAttrVals = Object.fromEntries(values.map((value) => [value, true]));
      const result = parse(expression, { ...options, context: { ...context, unusedAttrNames, unusedAttrVals } });
      parsed = { result, usedNames: names.filter((name) => !(name in unusedAttrNames)), usedValues: values.filter((value) => !(value in unusedAttrVals)) };
      if (cache.size >= EXPRESSION_CACHE_ENTRIES) cache.clear();
      cache.set(key, parsed);
    }
    for (const name of parsed.usedNames) delete context.unusedAttrNames[name];
    for (const value of parsed.usedValues) delete context.unusedAttrVals[value];
    return parsed.result;
  };
}
