import { SYSTEM_LIMITS } from '../model/limits';
import { annotationValue, mergeParameters, type Parameter, type StoredAction } from '../model/entity';
import { Messages, WhiskError } from '../model/errors';
import { defineOwn } from '../model/json-object';
import { bindingOf, type PackageDoc } from '../model/packages';
import { formatEntityPath, formatReference, type EntityPath, type EntityReference } from '../model/names';
import type { EntityReader } from '../store/entity-cache';

export interface StoredPackage extends PackageDoc {
  revision: string;
}

/** An action found by the name a caller used, with what it inherits from its package and binding. */
export interface ResolvedAction {
  action: StoredAction;
  /** Where the action entity lives (after following a binding). */
  reference: EntityReference;
  /** Package < binding < action parameters (OpenWhisk's merge order). */
  parameters: Parameter[];
  /** `ns/binding` when reached through a package binding. */
  binding?: string;
}

export async function loadPackage(entities: EntityReader, namespace: string, name: string): Promise<StoredPackage | undefined> {
  const stored = await entities.get<PackageDoc>(namespace, 'packages', name);
  return stored && { ...stored.doc, revision: stored.revision };
}

/**
 * Reads a package as `caller` may see it: its own packages, or another namespace's published
 * ones. Another namespace's missing package is a 403 (existence is not revealed).
 */
export async function readablePackage(entities: EntityReader, caller: string, namespace: string, name: string): Promise<StoredPackage> {
  const pkg = await loadPackage(entities, namespace, name);
  if (namespace !== caller && !pkg?.publish) throw new WhiskError(403, Messages.notAuthorized);
  if (!pkg) throw new WhiskError(404, Messages.notFound);
  return pkg;
}

/** The package a binding points to; it must exist and be published unless it is the binding owner's. */
export async function boundPackage(entities: EntityReader, owner: string, binding: PackageDoc): Promise<StoredPackage> {
  const target = bindingOf(binding)!;
  const pkg = await loadPackage(entities, target.namespace, target.name);
  if (!pkg) throw new WhiskError(404, Messages.notFound);
  if (target.namespace !== owner && !pkg.publish) throw new WhiskError(403, Messages.notAuthorized);
  return pkg;
}

async function loadAction(entities: EntityReader, namespace: string, path: EntityPath): Promise<StoredAction> {
  const stored = await entities.get<StoredAction>(namespace, 'actions', formatEntityPath(path));
  if (!stored) throw new WhiskError(404, Messages.notFound);
  return { ...stored.doc, revision: stored.revision };
}

/**
 * Resolves an action for reading or invoking. A caller reaches its own actions, and actions in
 * published packages of other namespaces (directly or through a binding); anything else is a 403.
 */
export async function resolveAction(entities: EntityReader, caller: string, reference: EntityReference): Promise<ResolvedAction> {
  const { namespace, path } = reference;
  if (!path.pkg) {
    if (namespace !== caller) throw new WhiskError(403, Messages.notAuthorized);
    const action = await loadAction(entities, namespace, path);
    return { action, reference, parameters: action.parameters };
  }
  const pkg = await readablePackage(entities, caller, namespace, path.pkg);
  if (!bindingOf(pkg)) {
    const action = await loadAction(entities, namespace, path);
    return { action, reference, parameters: mergeParameters(pkg.parameters, action.parameters) };
  }
  const target = await boundPackage(entities, namespace, pkg);
  const actual: EntityReference = { namespace: bindingOf(pkg)!.namespace, path: { pkg: bindingOf(pkg)!.name, name: path.name } };
  const action = await loadAction(entities, actual.namespace, actual.path);
  return {
    action,
    reference: actual,
    parameters: mergeParameters(target.parameters, pkg.parameters, action.parameters),
    binding: `${namespace}/${pkg.name}`,
  };
}

/**
 * The run arguments: bound parameters (without `init` ones, which go to /init) under the payload.
 * Every key becomes an own property, `__proto__` and `constructor` included, and no prototype changes.
 */
export function invocationArgs(parameters: Parameter[], payload: Record<string, unknown>): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const p of parameters) if (!p.init) defineOwn(args, p.key, p.value);
  for (const [key, value] of Object.entries(payload)) defineOwn(args, key, value);
  return args;
}

/** With a `final` annotation, payload keys may not override bound parameters that have a value. */
export function checkFinalParameters(resolved: ResolvedAction, payload: Record<string, unknown>): void {
  if (!annotationValue(resolved.action.annotations, 'final')) return;
  const fixed = resolved.parameters.filter((p) => p.value !== null && p.value !== undefined).map((p) => p.key);
  if (fixed.some((key) => Object.prototype.hasOwnProperty.call(payload, key))) throw new WhiskError(400, Messages.finalParams);
}

export function isSequence(action: StoredAction): boolean {
  return action.exec.kind === 'sequence';
}

/** A conductor action (the annotation is ignored on sequences). */
export function isConductor(action: StoredAction): boolean {
  return !isSequence(action) && Boolean(annotationValue(action.annotations, 'conductor'));
}

/**
 * Whether an activation's message carries the caller's key: for actions that ask for it, and for
 * compositions, whose components may ask for it.
 */
export function receivesApiKey(action: StoredAction): boolean {
  return Boolean(annotationValue(action.annotations, 'provide-api-key')) || isSequence(action) || isConductor(action);
}

/**
 * Atomic actions in a sequence once nested sequences are inlined. Rejects components that do not
 * exist, that the caller may not read, and any path back to `self` (a cycle).
 */
export async function sequenceAtomicCount(
  entities: EntityReader,
  caller: string,
  components: EntityReference[],
  self: string,
  depth = 0,
): Promise<number> {
  let count = 0;
  for (const component of components) {
    if (formatReference(component) === self || depth > 50) throw new WhiskError(400, Messages.sequenceSelf);
    let resolved: ResolvedAction;
    try {
      resolved = await resolveAction(entities, caller, component);
    } catch (error) {
      if (error instanceof WhiskError && error.status === 404) throw new WhiskError(400, Messages.sequenceComponentMissing);
      throw error;
    }
    if (formatReference(resolved.reference) === self) throw new WhiskError(400, Messages.sequenceSelf);
    count += isSequence(resolved.action)
      ? await sequenceAtomicCount(entities, caller, sequenceComponents(resolved.action, caller), self, depth + 1)
      : 1;
    // Past the longest a sequence may be, the rest need not be read.
    if (count > SYSTEM_LIMITS.sequenceMaxLength) return count;
  }
  return count;
}

/** A sequence's components as references (stored fully qualified). */
export function sequenceComponents(action: StoredAction, caller: string): EntityReference[] {
  return (action.exec.components ?? []).map((fqn) => {
    const [namespace, ...rest] = fqn.slice(1).split('/');
    const name = rest.pop()!;
    return { namespace: namespace === '_' ? caller : namespace, path: rest.length ? { pkg: rest[0], name } : { name } };
  });
}
