import { z } from 'zod';

/**
 * OpenWhisk's runtimes manifest (`ansible/files/runtimes.json`): the kinds a deployment runs, by
 * family, each with its image, whether it is its family's default or deprecated, and its stem
 * cells. Skywhisk reads the same file (`SKYWHISK_RUNTIMES`), so a deployment's manifest moves over
 * unchanged. Fields Skywhisk has no use for (`description`, `blackboxes`, `attached`, pull
 * settings) are accepted and ignored.
 */

/** OpenWhisk's image name: `[registry/][prefix/]name[:tag]`, the tag `latest` when none is given. */
const NAME_PART = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
/** OpenWhisk reads an empty field as absent, and a registry given with its trailing slash. */
const optionalPart = (schema: z.ZodString) =>
  z.preprocess((value) => (value === '' ? undefined : typeof value === 'string' ? value.replace(/\/+$/, '') : value), schema.optional());
const imageNameSchema = z
  .object({
    registry: optionalPart(z.string().regex(/^[a-z0-9][a-z0-9.-]*(?::\d{1,5})?$/i, 'a registry host such as ghcr.io or 127.0.0.1:5000')),
    prefix: optionalPart(z.string().regex(NAME_PART, 'lowercase image path parts such as openwhisk')),
    name: z.string().regex(NAME_PART, 'a lowercase image name such as action-nodejs-v20'),
    tag: optionalPart(z.string().regex(/^[\w][\w.-]{0,127}$/, 'an image tag such as nightly')),
  })
  .passthrough();

export type ManifestImageName = z.infer<typeof imageNameSchema>;

/** `registry/prefix/name:tag`, as Docker takes it. */
export function imageReference(image: ManifestImageName): string {
  return `${[image.registry, image.prefix, image.name].filter(Boolean).join('/')}:${image.tag ?? 'latest'}`;
}

const KIND = /^[a-z][a-z0-9.-]*:[a-z0-9][a-z0-9.-]*$/;

const runtimeSchema = z
  .object({
    kind: z.string().regex(KIND, 'a kind such as nodejs:20 (family:version)'),
    default: z.boolean().optional(),
    deprecated: z.boolean().optional(),
    image: imageNameSchema,
    requireMain: z.boolean().optional(),
    // Checked where stem cells are read (lib/invoker/stem-cell-settings.ts), with the kind added.
    stemCells: z.array(z.record(z.string(), z.unknown())).optional(),
  })
  .passthrough();

const manifestSchema = z
  .object({
    runtimes: z.record(z.string().regex(/^[a-z][a-z0-9.-]*$/, 'a family such as nodejs'), z.array(runtimeSchema).min(1, 'at least one kind')),
  })
  .passthrough()
  .superRefine((manifest, context) => {
    const seen = new Set<string>();
    for (const [family, kinds] of Object.entries(manifest.runtimes)) {
      if (kinds.filter((k) => k.default).length > 1) context.addIssue({ code: 'custom', path: ['runtimes', family], message: 'more than one default kind' });
      kinds.forEach((runtime, index) => {
        const path = ['runtimes', family, index, 'kind'];
        if (runtime.kind.split(':')[0] !== family) context.addIssue({ code: 'custom', path, message: `'${runtime.kind}' is not of family '${family}'` });
        if (runtime.kind.endsWith(':default')) context.addIssue({ code: 'custom', path, message: `'${runtime.kind}': 'default' names a family's default, not a kind` });
        if (seen.has(runtime.kind)) context.addIssue({ code: 'custom', path, message: `'${runtime.kind}' is listed twice` });
        seen.add(runtime.kind);
      });
    }
    for (const reserved of ['blackbox', 'sequence']) {
      if (reserved in manifest.runtimes) context.addIssue({ code: 'custom', path: ['runtimes', reserved], message: `'${reserved}' is a built-in kind, not a runtime family` });
    }
  });

/** One kind of a manifest, as the rest of Skywhisk uses it. */
export interface ManifestKind {
  kind: string;
  family: string;
  default: boolean;
  deprecated: boolean;
  /** The image reference, `registry/prefix/name:tag`. */
  image: string;
  requireMain: boolean;
  /** OpenWhisk's stemCells entries, unchecked (see the schema). */
  stemCells: Array<Record<string, unknown>>;
}

/**
 * The kinds of a runtimes manifest in OpenWhisk's format, given as its JSON text. `source` names
 * it in errors (the setting or file it came from). Throws one error listing every problem.
 */
export function parseRuntimesManifest(text: string, source: string): ManifestKind[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not JSON (${(error as Error).message}); expected a runtimes manifest in OpenWhisk's runtimes.json format.`, { cause: error });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    throw new Error(`${source} is not a runtimes manifest in OpenWhisk's format: ${problems.join('; ')}.`);
  }
  return Object.entries(parsed.data.runtimes).flatMap(([family, kinds]) =>
    kinds.map((runtime) => ({
      kind: runtime.kind,
      family,
      default: runtime.default ?? false,
      deprecated: runtime.deprecated ?? false,
      image: imageReference(runtime.image),
      requireMain: runtime.requireMain ?? false,
      stemCells: runtime.stemCells ?? [],
    })),
  );
}

/**
 * A manifest cut to what Skywhisk reads, as compact JSON, for a setting passed in an environment
 * variable (a Lambda function's environment holds 4 KB in all). Throws as parseRuntimesManifest does.
 */
export function compactRuntimesManifest(text: string, source: string): string {
  const runtimes: Record<string, unknown[]> = {};
  for (const kind of parseRuntimesManifest(text, source)) {
    const [prefixAndName, tag] = [kind.image.replace(/:[^:/]+$/, ''), kind.image.slice(kind.image.lastIndexOf(':') + 1)];
    const parts = prefixAndName.split('/');
    (runtimes[kind.family] ??= []).push({
      kind: kind.kind,
      ...(kind.default ? { default: true } : {}),
      ...(kind.deprecated ? { deprecated: true } : {}),
      ...(kind.requireMain ? { requireMain: true } : {}),
      image: imageFields(parts, tag),
      ...(kind.stemCells.length ? { stemCells: kind.stemCells } : {}),
    });
  }
  return JSON.stringify({ runtimes });
}

/** OpenWhisk's image fields back from a reference's parts: a first part with a dot or port is a registry. */
function imageFields(parts: string[], tag: string): ManifestImageName {
  const registry = parts.length > 1 && /[.:]/.test(parts[0]) ? parts.shift() : undefined;
  const name = parts.pop()!;
  return { ...(registry ? { registry } : {}), ...(parts.length ? { prefix: parts.join('/') } : {}), name, tag };
}
