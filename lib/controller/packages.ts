import type { Hono } from 'hono';
import { boundPackage, loadPackage, readablePackage, type StoredPackage } from '../catalog/resolve';
import { mergeAnnotations } from '../model/common';
import { annotationValue, mergeParameters, type StoredAction } from '../model/entity';
import { DEFAULT_NAMESPACE_ALIAS, isValidEntityName } from '../model/names';
import { bindingOf, packagePutSchema, type PackageBinding, type PackageDoc, type PackagePut } from '../model/packages';
import type { ControllerDeps, ControllerEnv } from './context';
import { checkNameFree, conforming, deleteEntity, loadEntity, nextCommonFields, saveEntity, withoutRevision } from './entity-store';
import { Messages, WhiskError } from './errors';
import { countAfterSkip, booleanParam, checkParameterSize, entityNameParam, listParams, parsedBody, requestedNamespace, resolveNamespace } from './request';

function isFeed(action: StoredAction): boolean {
  return Boolean(annotationValue(action.annotations, 'feed'));
}

function actionSummary(action: StoredAction): object {
  return { name: action.name, version: action.version, annotations: action.annotations };
}

/** A package in a listing: `binding` is the bound package, or `false` for a package (OpenWhisk's summary). */
function packageBrief(pkg: PackageDoc): object {
  const { namespace, name, version, publish, annotations, updated } = pkg;
  return { namespace, name, version, publish, annotations, binding: bindingOf(pkg) ?? false, updated };
}

/** The binding a PUT asks for: its target must exist, be readable by the caller, and not be a binding itself. */
async function bindingTarget(deps: ControllerDeps, caller: string, requested: { namespace: string; name: string }): Promise<PackageBinding> {
  const namespace = requested.namespace === DEFAULT_NAMESPACE_ALIAS || requested.namespace === '' ? caller : requested.namespace;
  if (!isValidEntityName(namespace) || !isValidEntityName(requested.name)) {
    throw new WhiskError(400, `${Messages.malformed}: binding must name a namespace and a package.`);
  }
  const target = await loadPackage(deps.entities, namespace, requested.name);
  if (!target) throw new WhiskError(400, 'Binding references a package that does not exist.');
  if (namespace !== caller && !target.publish) throw new WhiskError(403, Messages.notAuthorized);
  if (bindingOf(target)) throw new WhiskError(400, 'Cannot bind to another package binding.');
  return { namespace, name: requested.name };
}

async function buildPackage(
  deps: ControllerDeps,
  namespace: string,
  name: string,
  put: PackagePut,
  existing: StoredPackage | undefined,
): Promise<StoredPackage> {
  const wantsBinding = put.binding && 'name' in put.binding;
  if (existing && wantsBinding && !bindingOf(existing)) throw new WhiskError(409, 'Resource is a package and cannot be converted into a binding.');
  if (existing && bindingOf(existing) && put.binding && !wantsBinding) throw new WhiskError(409, 'Resource is a binding and cannot be converted into a package.');
  const binding = wantsBinding ? await bindingTarget(deps, namespace, put.binding as PackageBinding) : (existing?.binding ?? {});
  // As OpenWhisk: the `binding` annotation is the controller's, never the client's; a binding
  // carries its target in it (clients read it from package lists).
  const bound = bindingOf({ binding } as PackageDoc);
  const annotations = mergeAnnotations(existing?.annotations, put.annotations, put.delAnnotations).filter((a) => a.key !== 'binding');
  return {
    namespace,
    name,
    ...nextCommonFields(put, existing),
    annotations: bound ? [...annotations, { key: 'binding', value: { namespace: bound.namespace, name: bound.name } }] : annotations,
    parameters: put.parameters ?? existing?.parameters ?? [],
    binding,
  };
}

export function registerPackageRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/packages', async (c) => {
    const namespace = requestedNamespace(c);
    const { limit, skip, count } = listParams(c, 'packages');
    booleanParam(c, 'public', false);
    const all = (await deps.entities.list<PackageDoc>(namespace, 'packages')).map((e) => e.doc);
    // Another namespace shows only what it shares.
    const visible = namespace === c.get('identity').namespace ? all : all.filter((p) => p.publish);
    if (count) return c.json({ packages: countAfterSkip(visible.length, skip) });
    return c.json(visible.slice(skip, skip + limit).map(packageBrief));
  });

  app.get('/namespaces/:ns/packages/:name', async (c) => {
    const namespace = requestedNamespace(c);
    const caller = c.get('identity').namespace;
    const name = entityNameParam(c, 'packages');
    const pkg = await conforming(deps.entities, caller, namespace, 'packages', name, () => readablePackage(deps.entities, caller, namespace, name));
    const binding = bindingOf(pkg);
    const target = binding ? await boundPackage(deps.entities, namespace, pkg) : pkg;
    const actions = await deps.entities.list<StoredAction>(binding?.namespace ?? namespace, 'actions', target.name);
    return c.json({
      ...withoutRevision(pkg),
      // A binding shows its package's parameters with its own on top.
      parameters: binding ? mergeParameters(target.parameters, pkg.parameters) : pkg.parameters,
      // Actions annotated `feed` are the package's feeds, listed apart as OpenWhisk does.
      actions: actions.filter(({ doc }) => !isFeed(doc)).map(({ doc }) => actionSummary(doc)),
      feeds: actions.filter(({ doc }) => isFeed(doc)).map(({ doc }) => actionSummary(doc)),
    });
  });

  app.put('/namespaces/:ns/packages/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const name = entityNameParam(c, 'packages');
    if (name === 'default') throw new WhiskError(400, "Package name 'default' is reserved.");
    const overwrite = booleanParam(c, 'overwrite', false);
    const put = await parsedBody(c, packagePutSchema);
    checkParameterSize(put.parameters);
    const existing = await loadPackage(deps.entities, namespace, name);
    if (!existing) await checkNameFree(deps.entities, namespace, 'packages', name);
    if (existing && !overwrite) throw new WhiskError(409, Messages.exists);
    const pkg = await buildPackage(deps, namespace, name, put, existing);
    await saveEntity(deps.entities, namespace, 'packages', name, pkg, existing?.revision);
    return c.json(withoutRevision(pkg));
  });

  app.delete('/namespaces/:ns/packages/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const name = entityNameParam(c, 'packages');
    const force = booleanParam(c, 'force', false);
    const pkg = await loadEntity<PackageDoc>(deps.entities, namespace, 'packages', name);
    const contents = bindingOf(pkg) ? [] : await deps.entities.list<StoredAction>(namespace, 'actions', name);
    if (contents.length && !force) {
      throw new WhiskError(409, `Package not empty (contains ${contents.length} ${contents.length === 1 ? 'entity' : 'entities'}). Set force param or delete package contents.`);
    }
    for (const action of contents) await deleteEntity(deps.entities, namespace, 'actions', `${name}/${action.doc.name}`, action.revision);
    await deleteEntity(deps.entities, namespace, 'packages', name, pkg.revision);
    return c.json(withoutRevision(pkg));
  });

  app.post('/namespaces/:ns/packages/:name', () => {
    throw new WhiskError(405, 'HTTP method not allowed, supported methods: GET, PUT, DELETE');
  });
}
