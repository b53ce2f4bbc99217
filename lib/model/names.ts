/** OpenWhisk entity names and fully qualified names (shared/reference/openwhisk-api.md §4). */

// The controller's regex: one word character, or a word character followed by up to 254 of
// [\w@ .&-] and ending in a non-space. 256 characters at most.
const ENTITY_NAME = /^(?:\w|\w[\w@ .&-]{0,254}[\w@.&-])$/;

export const DEFAULT_NAMESPACE_ALIAS = '_';

export function isValidEntityName(name: string): boolean {
  return ENTITY_NAME.test(name);
}

export function isValidNamespace(namespace: string): boolean {
  return namespace === DEFAULT_NAMESPACE_ALIAS || ENTITY_NAME.test(namespace);
}

/** An entity path inside a namespace: `name` or `package/name`. */
export interface EntityPath {
  pkg?: string;
  name: string;
}

/** Parses `name` or `pkg/name` (as it appears after `/actions/`); undefined when invalid. */
export function parseEntityPath(path: string): EntityPath | undefined {
  const parts = path.split('/');
  if (parts.length === 1 && isValidEntityName(parts[0])) return { name: parts[0] };
  if (parts.length === 2 && isValidEntityName(parts[0]) && isValidEntityName(parts[1])) {
    return { pkg: parts[0], name: parts[1] };
  }
  return undefined;
}

export function formatEntityPath(path: EntityPath): string {
  return path.pkg ? `${path.pkg}/${path.name}` : path.name;
}

/** `/ns/pkg/name` style fully qualified name. */
export function fullyQualifiedName(namespace: string, path: EntityPath): string {
  return `/${namespace}/${formatEntityPath(path)}`;
}

/** A resolved reference to an entity: its namespace and its path inside it. */
export interface EntityReference {
  namespace: string;
  path: EntityPath;
}

/**
 * Parses a name as OpenWhisk accepts it in rules, sequences and conductor continuations:
 * `/ns/name`, `/ns/pkg/name`, `ns/pkg/name`, `pkg/name` or `name`; names without a namespace,
 * and the `_` namespace, mean `defaultNamespace`. Undefined when invalid.
 */
export function parseQualifiedName(raw: string, defaultNamespace: string): EntityReference | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) return undefined;
  const absolute = raw.startsWith('/');
  const parts = (absolute ? raw.slice(1) : raw).split('/');
  let namespace = defaultNamespace;
  let rest = parts;
  if (absolute || parts.length === 3) {
    if (parts.length < 2 || parts.length > 3) return undefined;
    namespace = parts[0] === DEFAULT_NAMESPACE_ALIAS ? defaultNamespace : parts[0];
    rest = parts.slice(1);
    if (!isValidEntityName(namespace)) return undefined;
  }
  const path = parseEntityPath(rest.join('/'));
  return path ? { namespace, path } : undefined;
}

/** `/ns/pkg/name` of a reference. */
export function formatReference(reference: EntityReference): string {
  return fullyQualifiedName(reference.namespace, reference.path);
}
