import { z } from 'zod';
import type { ActionLimits } from './limits';
import { Messages } from './errors';

export const keyValueSchema = z.object({ key: z.string().min(1), value: z.unknown() });
export const parameterSchema = keyValueSchema.extend({ init: z.boolean().optional() });

export type KeyValue = z.infer<typeof keyValueSchema>;
export type Parameter = z.infer<typeof parameterSchema>;

const semver = z.string().regex(/^\d+\.\d+\.\d+$/, 'version must be a semantic version like 0.0.1');

/**
 * OpenWhisk's `Exec.isBinaryCode`: after Java's trim (characters up to U+0020), non-empty, a
 * multiple of 4, base64 characters with at most two `=` at the end. It decides whether an action's
 * code is a zip, whatever `binary` the client sent (the Serverless plugin and `aio` upload zips
 * without the flag), and whether a web action's body is base64. Scanned by hand: a regular
 * expression over megabytes overflows the stack of V8's regexp engine.
 */
export function isBinaryCode(text: string): boolean {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  const length = end - start;
  if (length === 0 || length % 4 !== 0) return false;
  let body = end;
  while (body > end - 2 && text.charCodeAt(body - 1) === 0x3d) body--;
  if (body === start) return false;
  for (let i = start; i < body; i++) {
    const c = text.charCodeAt(i);
    const base64 = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!base64) return false;
  }
  return true;
}

export const execSchema = z.object({
  kind: z.string().min(1),
  code: z.string().optional(),
  binary: z.boolean().optional(),
  main: z.string().min(1).optional(),
  image: z.string().min(1).optional(),
  components: z.array(z.string()).optional(),
});

function whole(name: string) {
  return z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`);
}

/** Action limits as numbers; their ranges are checked by `namespaceLimitViolation` (lib/model/limits.ts), with OpenWhisk's wording. */
export const limitsSchema = z.object({
  timeout: whole('timeout').optional(),
  memory: whole('memory').optional(),
  logs: whole('logs').optional(),
  concurrency: whole('concurrency').optional(),
  /** Containers the action may scale to; bounded by the namespace, see `instancesViolation`. */
  instances: whole('instances').optional(),
});

/**
 * OpenWhisk's check of `limits.instances`: at least 0 and at most the namespace's concurrent
 * invocations (`namespaceConcurrency`), with its wording.
 */
export function instancesViolation(instances: number | undefined, namespaceConcurrency: number): string | undefined {
  if (instances === undefined) return undefined;
  // A `require` inside OpenWhisk's JSON reader: the malformed-content prefix and its wording.
  if (instances < 0) return `${Messages.malformed}:\nrequirement failed: Action container concurrency must be greater than or equal to 0.`;
  if (instances > namespaceConcurrency) return `Max action instance concurrency must not exceed your namespace concurrency of ${namespaceConcurrency}.`;
  return undefined;
}

/** The body of `PUT .../actions/{name}`. Unknown fields are ignored, as OpenWhisk's JSON reader does. */
export const actionPutSchema = z.object({
  namespace: z.string().optional(),
  name: z.string().optional(),
  version: semver.optional(),
  publish: z.boolean().optional(),
  exec: execSchema.optional(),
  annotations: z.array(keyValueSchema).optional(),
  parameters: z.array(parameterSchema).optional(),
  limits: limitsSchema.optional(),
  delAnnotations: z.array(z.string()).optional(),
});

export type ActionPut = z.infer<typeof actionPutSchema>;

export interface ActionExec {
  kind: string;
  code: string;
  binary: boolean;
  main?: string;
  image?: string;
  /** Fully qualified component names of a `sequence`. */
  components?: string[];
}

/** An action as the API returns it. */
export interface Action {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  exec: ActionExec;
  annotations: KeyValue[];
  parameters: Parameter[];
  limits: ActionLimits;
  updated: number;
}

/** An action as stored: the API document plus an opaque revision that changes on every write. */
export interface StoredAction extends Action {
  revision: string;
}

export function annotationValue(annotations: KeyValue[], key: string): unknown {
  return annotations.find((a) => a.key === key)?.value;
}

export function setAnnotation(annotations: KeyValue[], key: string, value: unknown): KeyValue[] {
  return [...annotations.filter((a) => a.key !== key), { key, value }];
}

/** Merges parameter lists; later lists override earlier ones key by key. */
export function mergeParameters(...lists: KeyValue[][]): KeyValue[] {
  const merged = new Map<string, KeyValue>();
  for (const list of lists) for (const p of list) merged.set(p.key, p);
  return [...merged.values()];
}

export function bumpPatch(version: string): string {
  const [major, minor, patch] = version.split('.').map(Number);
  return `${major}.${minor}.${patch + 1}`;
}
