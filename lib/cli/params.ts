import { readFileSync } from 'node:fs';

/** wsk reads a parameter value as JSON when it parses, else as a string. */
export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface KeyValuePairs {
  params: Record<string, unknown>;
  annotations: Record<string, unknown>;
  argv: string[];
}

/**
 * Takes wsk's two-word options (`-p key value`, `--param key value`, `-a key value`,
 * `--annotation key value`) out of argv, since commander's options take one value each.
 */
export function extractKeyValuePairs(argv: string[]): KeyValuePairs {
  const params: Record<string, unknown> = {};
  const annotations: Record<string, unknown> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const target = arg === '-p' || arg === '--param' ? params : arg === '-a' || arg === '--annotation' ? annotations : undefined;
    if (!target) {
      rest.push(arg);
      continue;
    }
    if (argv[i + 2] === undefined) throw new Error(`${arg} needs a key and a value`);
    target[argv[i + 1]] = parseValue(argv[i + 2]);
    i += 2;
  }
  return { params, annotations, argv: rest };
}

/** `-P file.json`: a JSON object of parameters. */
export function readParamFile(file: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

export function toKeyValueList(values: Record<string, unknown>): Array<{ key: string; value: unknown }> {
  return Object.entries(values).map(([key, value]) => ({ key, value }));
}

/** `-P file` then `-p key value` pairs, the pairs winning, as wsk merges them. */
export function mergedParams(paramFile: string | undefined, pairs: KeyValuePairs): Record<string, unknown> {
  return { ...(paramFile ? readParamFile(paramFile) : {}), ...pairs.params };
}
