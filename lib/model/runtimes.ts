import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseRuntimesManifest } from './runtimes-manifest';

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
  /**
   * `skywhisk`: one of our runtimes (a private socket, its token, the output pipes; the process
   * factory runs it too). `openwhisk`: any image speaking OpenWhisk's action protocol on port
   * 8080, such as OpenWhisk's own runtime images, run as a blackbox image is (Docker only).
   */
  protocol: 'skywhisk' | 'openwhisk';
  /** Which of our kinds a `skywhisk` runtime is, for its image override (`SKYWHISK_RUNTIME_IMAGES`). */
  builtin?: string;
  /** OpenWhisk sets it for compiled kinds such as java: an action must name its main. */
  requireMain: boolean;
  /** The manifest's stemCells entries, unchecked (lib/invoker/stem-cell-settings.ts reads them). */
  stemCells?: Array<Record<string, unknown>>;
}

/** The kinds Skywhisk builds images for (lib/images/build.ts), and runs when no manifest is given. */
export const RUNTIME_KINDS: readonly RuntimeKind[] = [
  { kind: 'nodejs:22', family: 'nodejs', default: true, deprecated: false, image: 'skywhisk/action-nodejs-v22', protocol: 'skywhisk', builtin: 'nodejs:22', requireMain: false },
  { kind: 'nodejs:20', family: 'nodejs', default: false, deprecated: false, image: 'skywhisk/action-nodejs-v20', protocol: 'skywhisk', builtin: 'nodejs:20', requireMain: false },
  { kind: 'python:3.11', family: 'python', default: true, deprecated: false, image: 'skywhisk/action-python-v3.11', protocol: 'skywhisk', builtin: 'python:3.11', requireMain: false },
];

/**
 * Names `SKYWHISK_RUNTIMES`: a runtimes manifest in OpenWhisk's runtimes.json format, as a file
 * path or as the JSON itself. Its kinds replace the built-in list; a kind whose image is one of
 * ours (`skywhisk/action-nodejs-v22`, any tag) runs as ours, any other image as OpenWhisk's
 * runtime images do (Docker only).
 */
export const RUNTIMES_ENV = 'SKYWHISK_RUNTIMES';

/** The kinds a manifest's text gives, each told whether it runs one of our runtimes. */
export function runtimeKindsOf(text: string, source: string): RuntimeKind[] {
  const entries = parseRuntimesManifest(text, source);
  return entries.map((entry) => {
    // As OpenWhisk's ExecManifest: a family's only kind is its default, marked or not.
    const alone = entries.filter((other) => other.family === entry.family).length === 1;
    const repository = entry.image.replace(/:[^:/]+$/, '');
    const ours = RUNTIME_KINDS.find((r) => r.image === repository);
    return {
      kind: entry.kind,
      family: entry.family,
      default: entry.default || alone,
      deprecated: entry.deprecated,
      image: ours ? ours.image : entry.image,
      protocol: ours ? 'skywhisk' : 'openwhisk',
      ...(ours ? { builtin: ours.kind } : {}),
      requireMain: entry.requireMain,
      stemCells: entry.stemCells,
    };
  });
}

/** The manifest of `SKYWHISK_RUNTIMES`, read at first use (again only if the setting changes). */
let cachedManifest: { raw: string | undefined; kinds: readonly RuntimeKind[] } | undefined;

/** This deployment's kinds: the manifest's when `SKYWHISK_RUNTIMES` gives one, else the built-in ones. */
export function activeRuntimes(): readonly RuntimeKind[] {
  const raw = process.env[RUNTIMES_ENV]?.trim() || undefined;
  if (!cachedManifest || cachedManifest.raw !== raw) cachedManifest = { raw, kinds: raw ? loadManifest(raw) : RUNTIME_KINDS };
  return cachedManifest.kinds;
}

function loadManifest(raw: string): RuntimeKind[] {
  if (raw.startsWith('{')) return runtimeKindsOf(raw, RUNTIMES_ENV);
  let text: string;
  try {
    text = readFileSync(raw, 'utf8');
  } catch (error) {
    throw new Error(`${RUNTIMES_ENV}: cannot read the runtimes manifest '${raw}' (${(error as Error).message}).`, { cause: error });
  }
  return runtimeKindsOf(text, `${RUNTIMES_ENV} (${raw})`);
}

export function resolveKind(kind: string): RuntimeKind | undefined {
  const [family, version] = kind.split(':');
  const kinds = activeRuntimes();
  if (version === 'default') return kinds.find((r) => r.family === family && r.default);
  return kinds.find((r) => r.kind === kind);
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

/**
 * Names the setting that tells the controller its invokers run actions as processes (Fargate, or
 * a local platform without Docker): actions that need an image are then refused at create time.
 */
export const ACTIONS_AS_PROCESSES_ENV = 'SKYWHISK_ACTIONS_AS_PROCESSES';

export const PROCESS_MODE_RUNS_NO_IMAGES = 'This platform runs actions as processes (no Docker engine), which cannot run blackbox or native actions: they need the Docker factory.';

/** OpenWhisk's 400 for a kind its manifest marks deprecated, on update and invoke. */
export function deprecatedKindMessage(kind: string): string | undefined {
  return resolveKind(kind)?.deprecated ? `The '${kind}' runtime is no longer supported. You may read and delete but not update or invoke this action.` : undefined;
}

/**
 * The runtime a stored action's kind runs in: the manifest's, else ours of that name. A kind of
 * ours that the manifest leaves out still runs as ours: the system packages' actions (nodejs:22)
 * and actions made before the manifest changed.
 */
function runtimeOfStoredKind(kind: string): RuntimeKind | undefined {
  return resolveKind(kind) ?? RUNTIME_KINDS.find((r) => r.kind === kind);
}

/** Whether a kind runs in one of our nodejs runtimes, which alone run several activations at once. */
export function runsConcurrently(kind: string): boolean {
  const runtime = runtimeOfStoredKind(kind);
  return runtime?.protocol === 'skywhisk' && (runtime.builtin ?? runtime.kind).startsWith('nodejs:');
}

/** Why a kind whose runtime image is not ours cannot run where actions run as processes. */
export function processModeRunsNoKind(kind: string): string {
  return `This platform runs actions as processes (no Docker engine), which cannot run kind '${kind}': its runtime image needs the Docker factory.`;
}

/** Whether this deployment's invokers run actions as processes (`SKYWHISK_ACTIONS_AS_PROCESSES=true`). */
export function actionsRunAsProcesses(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ACTIONS_AS_PROCESSES_ENV] === 'true';
}

/** Our default nodejs kind: its runtime runs native actions, whatever kinds a manifest gives. */
export const NATIVE_RUNTIME_KIND = 'nodejs:22';

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

/** The image a kind runs in, and whether it is one of our runtimes (see RuntimeKind.protocol). */
export function runtimeForKind(kind: string): { image: string; ownRuntime: boolean } {
  const runtime = runtimeOfStoredKind(kind);
  if (!runtime) throw new Error(`no runtime image for kind '${kind}'`);
  if (runtime.protocol === 'openwhisk') return { image: runtime.image, ownRuntime: false };
  return { image: currentOverrides()[runtime.builtin ?? runtime.kind] ?? runtime.image, ownRuntime: true };
}

/** The image of one of our own kinds (RUNTIME_KINDS), whatever the manifest says: native actions and the network check use it. */
export function ownImageForKind(kind: string): string {
  const runtime = RUNTIME_KINDS.find((r) => r.kind === kind);
  if (!runtime) throw new Error(`'${kind}' is not one of Skywhisk's own kinds`);
  return currentOverrides()[runtime.kind] ?? runtime.image;
}

/** The image a kind runs in: the manifest's (`SKYWHISK_RUNTIME_IMAGES`) when it names one, else the local build's. */
export function imageForKind(kind: string): string {
  return runtimeForKind(kind).image;
}

export function supportedKinds(): string[] {
  return activeRuntimes().map((r) => r.kind);
}

/** The `runtimes` section of `GET /`. */
export function runtimesDocument(): Record<string, Array<Record<string, unknown>>> {
  const doc: Record<string, Array<Record<string, unknown>>> = {};
  for (const r of activeRuntimes()) {
    (doc[r.family] ??= []).push({
      kind: r.kind,
      image: r.image,
      default: r.default,
      deprecated: r.deprecated,
      attached: true,
      requireMain: r.requireMain,
    });
  }
  return doc;
}
