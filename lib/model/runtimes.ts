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
  { kind: 'nodejs:20', family: 'nodejs', default: true, deprecated: false, image: 'skywhisk/action-nodejs-v20' },
  { kind: 'python:3.11', family: 'python', default: true, deprecated: false, image: 'skywhisk/action-python-v3.11' },
];

export function resolveKind(kind: string): RuntimeKind | undefined {
  const [family, version] = kind.split(':');
  if (version === 'default') return RUNTIME_KINDS.find((r) => r.family === family && r.default);
  return RUNTIME_KINDS.find((r) => r.kind === kind);
}

export function imageForKind(kind: string): string {
  const runtime = resolveKind(kind);
  if (!runtime) throw new Error(`no runtime image for kind '${kind}'`);
  return runtime.image;
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
    });
  }
  return doc;
}
