import { z } from 'zod';
import { keyValueSchema, parameterSchema, type KeyValue } from './entity';

const semver = z.string().regex(/^\d+\.\d+\.\d+$/, 'version must be a semantic version like 0.0.1');

/** Fields every entity PUT body may carry. Unknown fields are ignored, as OpenWhisk's JSON reader does. */
export const commonPutFields = {
  namespace: z.string().optional(),
  name: z.string().optional(),
  version: semver.optional(),
  publish: z.boolean().optional(),
  annotations: z.array(keyValueSchema).optional(),
  delAnnotations: z.array(z.string()).optional(),
};

export const parametersField = z.array(parameterSchema).optional();

/** Fields every entity document has. */
export interface EntityDocument {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations: KeyValue[];
  updated: number;
}

/** Annotations after an update: old ones overridden key by key by the new, minus `delAnnotations`. */
export function mergeAnnotations(existing: KeyValue[] | undefined, put: KeyValue[] | undefined, del: string[] | undefined): KeyValue[] {
  const merged = new Map<string, KeyValue>();
  for (const a of existing ?? []) merged.set(a.key, a);
  for (const a of put ?? []) merged.set(a.key, a);
  for (const key of del ?? []) merged.delete(key);
  return [...merged.values()];
}
