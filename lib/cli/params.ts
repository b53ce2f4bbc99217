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
  /** `-A file` annotations, then `-a key value` pairs, which win. */
  annotations: Record<string, unknown>;
  /** `--del-annotation key` (repeatable): what an update removes (OpenWhisk's `delAnnotations`). */
  deleteAnnotations: string[];
  argv: string[];
}

/**
 * Takes wsk's two-word options (`-p key value`, `--param key value`, `-a key value`,
 * `--annotation key value`) out of argv, since commander's options take one value each, and the
 * annotation options every entity command shares (`-A/--annotation-file file`,
 * `--del-annotation key`).
 */
export function extractKeyValuePairs(argv: string[]): KeyValuePairs {
  const params: Record<string, unknown> = {};
  const pairs: Record<string, unknown> = {};
  const fromFiles: Record<string, unknown> = {};
  const deleteAnnotations: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-A' || arg === '--annotation-file' || arg === '--del-annotation') {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`${arg} needs a ${arg === '--del-annotation' ? 'key' : 'file'}`);
      if (arg === '--del-annotation') deleteAnnotations.push(value);
      else Object.assign(fromFiles, readJsonObjectFile(value));
      i += 1;
      continue;
    }
    const target = arg === '-p' || arg === '--param' ? params : arg === '-a' || arg === '--annotation' ? pairs : undefined;
    if (!target) {
      rest.push(arg);
      continue;
    }
    if (argv[i + 2] === undefined) throw new Error(`${arg} needs a key and a value`);
    target[argv[i + 1]] = parseValue(argv[i + 2]);
    i += 2;
  }
  return { params, annotations: { ...fromFiles, ...pairs }, deleteAnnotations, argv: rest };
}

/** `-P file.json` or `-A file.json`: a JSON object of parameters or annotations. */
export function readJsonObjectFile(file: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The body's `delAnnotations` for `--del-annotation` keys, when there are any. */
export function deletedAnnotations(pairs: KeyValuePairs): { delAnnotations?: string[] } {
  return pairs.deleteAnnotations.length ? { delAnnotations: pairs.deleteAnnotations } : {};
}

export function toKeyValueList(values: Record<string, unknown>): Array<{ key: string; value: unknown }> {
  return Object.entries(values).map(([key, value]) => ({ key, value }));
}

/** `-P file` then `-p key value` pairs, the pairs winning, as wsk merges them. */
export function mergedParams(paramFile: string | undefined, pairs: KeyValuePairs): Record<string, unknown> {
  return { ...(paramFile ? readJsonObjectFile(paramFile) : {}), ...pairs.params };
}
