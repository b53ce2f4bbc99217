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
