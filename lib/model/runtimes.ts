import { z } from 'zod';

/**
 * The runtimes manifest: which exec kinds this platform runs, and the default kind of each family
 * (`nodejs:default` resolves to the family's default, as in OpenWhisk's runtimes.json).
 */
export interface RuntimeKind {
  kind: string;
  family: string;
  default: boolean;
  deprecated: boolean;
  /** Docker image for the docker factory; the process factory runs the proxy from runtimes/. */
  image: string;
}

export const RUNTIME_KINDS: readonly RuntimeKind[] = [
  { kind: 'nodejs:22', family: 'nodejs', default: true, deprecated: false, image: 'skywhisk/action-nodejs-v22' },
  { kind: 'nodejs:20', family: 'nodejs', default: false, deprecated: false, image: 'skywhisk/action-nodejs-v20' },
  { kind: 'python:3.11', family: 'python', default: true, deprecated: false, image: 'skywhisk/action-python-v3.11' },
];

export function resolveKind(kind: string): RuntimeKind | undefined {
  const [family, version] = kind.split(':');
  if (version === 'default') return RUNTIME_KINDS.find((r) => r.family === family && r.default);
  return RUNTIME_KINDS.find((r) => r.kind === kind);
}

/**
 * Whether a blackbox image is OpenWhisk's skeleton for native actions (`wsk action create
 * --native`: `openwhisk/dockerskeleton`, any tag, with or without Docker Hub's name). Such actions
 * run in the default nodejs runtime in its native mode (runtimes/nodejs/proxy.js), so they need
 * no registry and get what our runtimes get: a private socket, its token and the output pipes.
 */
export function isNativeSkeleton(image: string): boolean {
  return /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?openwhisk\/dockerskeleton(?::[\w][\w.-]{0,127})?$/.test(image);
}

/** The kind whose runtime runs native actions. */
export const NATIVE_RUNTIME_KIND = 'nodejs:default';

/** Names `SKYWHISK_RUNTIME_IMAGES`, the deployment's manifest of runtime images (kind → image URI). */
export const RUNTIME_IMAGES_ENV = 'SKYWHISK_RUNTIME_IMAGES';

const overridesSchema = z.record(z.string(), z.string().trim().min(1, 'an image name or URI')).superRefine((images, context) => {
  for (const kind of Object.keys(images)) {
    if (!RUNTIME_KINDS.some((r) => r.kind === kind)) {
      context.addIssue({ code: 'custom', path: [kind], message: `not a runtime kind (known: ${RUNTIME_KINDS.map((r) => r.kind).join(', ')})` });
    }
  }
});

/**
 * The image of each kind the deployment replaces, from `SKYWHISK_RUNTIME_IMAGES`: a JSON object of
 * exact kinds (`nodejs:20`, not `nodejs:default`) to image URIs, such as the ECR images the CDK
 * app built (infra/constructs/runtime-images.ts). Unset or empty: no overrides. Throws on a value
 * that is not such an object.
 */
export function runtimeImageOverrides(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const raw = env[RUNTIME_IMAGES_ENV]?.trim();
  if (!raw) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new Error(`${RUNTIME_IMAGES_ENV} is not JSON (${(error as Error).message}); expected an object of runtime kind to image, e.g. {"nodejs:20":"<image>"}.`, { cause: error });
  }
  const parsed = overridesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
    throw new Error(`${RUNTIME_IMAGES_ENV} is not an object of runtime kind to image: ${problems.join('; ')}.`);
  }
  return parsed.data;
}

/** The overrides of the current environment, parsed at first use (again only if the variable changes). */
let cachedOverrides: { raw: string | undefined; images: Record<string, string> } | undefined;

function currentOverrides(): Record<string, string> {
  const raw = process.env[RUNTIME_IMAGES_ENV];
  if (!cachedOverrides || cachedOverrides.raw !== raw) cachedOverrides = { raw, images: runtimeImageOverrides(process.env) };
  return cachedOverrides.images;
}

/** The image a kind runs in: the manifest's (`SKYWHISK_RUNTIME_IMAGES`) when it names one, else the local build's. */
export function imageForKind(kind: string): string {
  const runtime = resolveKind(kind);
  if (!runtime) throw new Error(`no runtime image for kind '${kind}'`);
  return currentOverrides()[runtime.kind] ?? runtime.image;
}

export function supportedKinds(): string[] {
  return RUNTIME_KINDS.map((r) => r.kind);
}

/** The `runtimes` section of `GET /`. */
export function runtimesDocument(): Record<string, Array<Record<string, unknown>>> {
  const doc: Record<string, Array<Record<string, unknown>>> = {};
  for (const r of RUNTIME_KINDS) {
    (doc[r.family] ??= []).push({
      kind: r.kind,
      image: r.image,
      default: r.default,
      deprecated: r.deprecated,
      attached: true,
      // No kind here needs an explicit main (OpenWhisk sets it for compiled kinds such as java).
      requireMain: false,
    });
  }
  return doc;
}
