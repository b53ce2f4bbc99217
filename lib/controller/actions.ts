import type { Context, Hono } from 'hono';
import {
  actionPutSchema,
  instancesViolation,
  bumpPatch,
  isBinaryCode,
  setAnnotation,
  type Action,
  type ActionPut,
  type StoredAction,
} from '../model/entity';
import { boundPackage, loadPackage, readablePackage, resolveAction, sequenceAtomicCount, type ResolvedAction } from '../catalog/resolve';
import { mergeAnnotations } from '../model/common';
import { defaultActionLimits, kindAllowed, namespaceLimitViolation, notAuthorizedToKind, SYSTEM_LIMITS, userLimits } from '../model/limits';
import { bindingOf } from '../model/packages';
import { formatEntityPath, formatReference, fullyQualifiedName, parseQualifiedName, type EntityPath, type EntityReference } from '../model/names';
import { actionsRunAsProcesses, deprecatedKindMessage, PROCESS_MODE_RUNS_NO_IMAGES, processModeRunsNoKind, resolveKind, runsConcurrently, supportedKinds } from '../model/runtimes';
import { checkNameFree, conforming, deleteEntity, loadEntity, newRevision, notFoundError, saveEntity } from './entity-store';
import type { EntityReader } from '../store/entity-cache';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { invokeAction } from './invoke';
import { countAfterSkip, booleanParam, checkParameterSize, entityNameParam, entityPathParam, listParams, parsedBody, requestedNamespace, resolveNamespace } from './request';

type Ctx = Context<ControllerEnv>;

function actionNamespace(namespace: string, path: EntityPath): string {
  return path.pkg ? `${namespace}/${path.pkg}` : namespace;
}

function publicAction(action: StoredAction, includeCode = true): Action {
  const { revision: _revision, ...doc } = action;
  // OpenWhisk shows a sequence's components as a parameter too (`_actions`), after any its
  // package or binding gives it; clients such as aio's `deploy export` read them from there.
  if (action.exec.kind === 'sequence') {
    const components = action.exec.components ?? [];
    const parameters = [...doc.parameters.filter((p) => p.key !== '_actions'), { key: '_actions', value: components }];
    return { ...doc, exec: { kind: 'sequence', components } as Action['exec'], parameters };
  }
  // A blackbox action without code has none in OpenWhisk's answer (its image brings the code).
  if (includeCode && !(doc.exec.kind === 'blackbox' && !doc.exec.code)) return doc;
  const { code: _code, ...exec } = doc.exec;
  return { ...doc, exec: exec as Action['exec'] };
}

export function actionBrief(action: StoredAction): object {
  return {
    namespace: action.namespace,
    name: action.name,
    version: action.version,
    publish: action.publish,
    annotations: action.annotations,
    limits: action.limits,
    exec: { binary: action.exec.binary },
    updated: action.updated,
  };
}

/** A Docker image reference: `[registry[:port]/]name[:tag][@digest]`. */
const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._-]*(?::\d+)?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** OpenWhisk caps annotations as it caps parameters (`LimitedWhiskEntityPut`), with its 413 words. */
function checkAnnotationSize(annotations: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(annotations ?? []));
  if (size > SYSTEM_LIMITS.maxParameterSize) throw new WhiskError(413, `annotations larger than allowed: ${size} > ${SYSTEM_LIMITS.maxParameterSize} bytes.`);
}

/** OpenWhisk's `exec` size check: the code (as sent, base64 for a zip) and the entry point, with its 413 words. */
function checkExecSize(exec: ActionPut['exec']): void {
  if (!exec) return;
  const size = Buffer.byteLength(exec.code ?? '') + Buffer.byteLength(exec.main ?? '') + Buffer.byteLength(exec.image ?? '');
  if (size > SYSTEM_LIMITS.maxCodeSize) throw new WhiskError(413, `exec larger than allowed: ${size} > ${SYSTEM_LIMITS.maxCodeSize} bytes.`);
}

function resolveExec(exec: NonNullable<ActionPut['exec']>): StoredAction['exec'] {
  if (exec.kind === 'blackbox') {
    // Any image speaking the action protocol on port 8080; code is optional (the image may bring its own).
    if (!exec.image || !IMAGE_REFERENCE.test(exec.image) || exec.image.length > 255) {
      throw new WhiskError(400, `${Messages.malformed}: exec.image must name a Docker image for kind 'blackbox'.`);
    }
    // Refused here rather than at every invoke: no invoker of this deployment could run it.
    if (actionsRunAsProcesses()) throw new WhiskError(400, PROCESS_MODE_RUNS_NO_IMAGES);
    return { kind: 'blackbox', image: exec.image, code: exec.code ?? '', binary: isBinaryCode(exec.code ?? ''), ...(exec.main ? { main: exec.main } : {}) };
  }
  const runtime = resolveKind(exec.kind);
  if (!runtime) {
    throw new WhiskError(
      400,
      // OpenWhisk's JSON reader refuses the kind, so its answer carries the malformed-content prefix.
      `${Messages.malformed}:\nThe specified runtime '${exec.kind}' is not supported by this platform. Valid values are: ${[...supportedKinds(), 'sequence', 'blackbox'].map((kind) => `'${kind}'`).join(', ')}.`,
    );
  }
  const deprecated = deprecatedKindMessage(runtime.kind);
  if (deprecated) throw new WhiskError(400, deprecated);
  if (runtime.protocol === 'openwhisk' && actionsRunAsProcesses()) throw new WhiskError(400, processModeRunsNoKind(runtime.kind));
  if (typeof exec.code !== 'string' || exec.code.length === 0) throw new WhiskError(400, `${Messages.malformed}: exec.code is required for kind '${runtime.kind}'.`);
  return { kind: runtime.kind, code: exec.code, binary: isBinaryCode(exec.code), ...(exec.main ? { main: exec.main } : {}) };
}

/** Builds the stored action from a PUT body, merged over the existing action on update. */
function buildAction(namespace: string, path: EntityPath, put: ActionPut, existing: StoredAction | undefined, sequenceExec?: StoredAction['exec']): StoredAction {
  if (!existing && !put.exec) throw new WhiskError(400, 'exec undefined');
  const exec = sequenceExec ?? (put.exec ? resolveExec(put.exec) : existing!.exec);
  // An update that keeps the code of a deprecated kind is refused too, as in OpenWhisk.
  const deprecated = put.exec ? undefined : deprecatedKindMessage(exec.kind);
  if (deprecated) throw new WhiskError(400, deprecated);
  let annotations = mergeAnnotations(existing?.annotations, put.annotations, put.delAnnotations);
  annotations = setAnnotation(annotations, 'exec', exec.kind);
  if (!annotations.some((a) => a.key === 'provide-api-key')) annotations.push({ key: 'provide-api-key', value: false });
  const limits = { ...defaultActionLimits(), ...existing?.limits, ...put.limits };
  if (limits.concurrency > 1 && !runsConcurrently(exec.kind)) {
    throw new WhiskError(400, `The kind '${exec.kind}' does not support a concurrency limit above 1.`);
  }
  return {
    namespace: actionNamespace(namespace, path),
    name: path.name,
    version: put.version ?? (existing ? bumpPatch(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    exec,
    annotations,
    // A sequence's own parameters are discarded, as in OpenWhisk: only the invoke payload reaches its first component.
    parameters: exec.kind === 'sequence' ? [] : (put.parameters ?? existing?.parameters ?? []),
    limits,
    updated: Date.now(),
    revision: newRevision(),
  };
}

/**
 * The exec of a sequence: its components fully qualified (`_` resolved), each one readable by the
 * caller, no cycle, at most `sequenceMaxLength` atomic actions once nested sequences are inlined.
 */
async function sequenceExec(deps: ControllerDeps, namespace: string, path: EntityPath, components: unknown): Promise<StoredAction['exec']> {
  if (!Array.isArray(components) || components.length === 0) {
    throw new WhiskError(400, 'No component specified for the sequence.');
  }
  // Before any component is read: a long list costs a store read per entry.
  if (components.length > SYSTEM_LIMITS.sequenceMaxLength) throw new WhiskError(400, Messages.sequenceTooLong);
  const references = components.map((raw) => {
    const reference = typeof raw === 'string' ? parseQualifiedName(raw, namespace) : undefined;
    if (!reference) throw new WhiskError(400, `${Messages.malformed}: the sequence component '${String(raw)}' is not a valid action name.`);
    return reference;
  });
  const count = await sequenceAtomicCount(deps.entities, namespace, references, fullyQualifiedName(namespace, path));
  if (count > SYSTEM_LIMITS.sequenceMaxLength) throw new WhiskError(400, Messages.sequenceTooLong);
  return { kind: 'sequence', code: '', binary: false, components: references.map(formatReference) };
}

/** Actions are written only in the caller's own packages, never inside a binding. */
async function checkWritablePackage(deps: ControllerDeps, namespace: string, path: EntityPath): Promise<void> {
  if (!path.pkg) return;
  const pkg = await loadPackage(deps.entities, namespace, path.pkg);
  if (!pkg) throw await notFoundError(deps.entities, namespace, 'packages', path.pkg);
  if (bindingOf(pkg)) throw new WhiskError(400, Messages.bindingOperation);
}

/**
 * `resolveAction` for an action route, whose 404 is OpenWhisk's 409 when another collection holds
 * the action's name, or the name of the package it is addressed in.
 */
async function routedAction(deps: ControllerDeps, reader: EntityReader, caller: string, reference: EntityReference): Promise<ResolvedAction> {
  const [type, name] = reference.path.pkg ? (['packages', reference.path.pkg] as const) : (['actions', reference.path.name] as const);
  return conforming(deps.entities, caller, reference.namespace, type, name, () => resolveAction(reader, caller, reference));
}

export function registerActionRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/actions', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip, count } = listParams(c, 'actions');
    const all = await deps.entities.list<StoredAction>(namespace, 'actions');
    if (count) return c.json({ actions: countAfterSkip(all.length, skip) });
    return c.json(all.slice(skip, skip + limit).map((e) => actionBrief({ ...e.doc, revision: e.revision })));
  });

  // `GET .../actions/pkg/` lists the actions of one package (a binding lists its bound package's).
  app.get('/namespaces/:ns/actions/:pkg{[^/]+}/', async (c) => {
    const namespace = requestedNamespace(c);
    const { limit, skip, count } = listParams(c, 'actions');
    const caller = c.get('identity').namespace;
    const pkgName = entityNameParam(c, 'packages', 'pkg');
    const pkg = await conforming(deps.entities, caller, namespace, 'packages', pkgName, () => readablePackage(deps.entities, caller, namespace, pkgName));
    const target = bindingOf(pkg) ? await boundPackage(deps.entities, namespace, pkg) : pkg;
    const targetNamespace = bindingOf(pkg)?.namespace ?? namespace;
    const all = await deps.entities.list<StoredAction>(targetNamespace, 'actions', target.name);
    if (count) return c.json({ actions: countAfterSkip(all.length, skip) });
    return c.json(all.slice(skip, skip + limit).map((e) => actionBrief({ ...e.doc, revision: e.revision })));
  });

  app.get('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = requestedNamespace(c);
    const resolved = await routedAction(deps, deps.entities, c.get('identity').namespace, { namespace, path: entityPathParam(c, 'actions') });
    return c.json(publicAction({ ...resolved.action, parameters: resolved.parameters }, booleanParam(c, 'code', true)));
  });

  app.put('/namespaces/:ns/actions/:name{.+}', async (c: Ctx) => {
    const namespace = resolveNamespace(c);
    const path = entityPathParam(c, 'actions');
    const overwrite = booleanParam(c, 'overwrite', false);
    const put = await parsedBody(c, actionPutSchema);
    checkExecSize(put.exec);
    const user = userLimits(c.get('identity').limits);
    const violation = namespaceLimitViolation(put.limits, user) ?? instancesViolation(put.limits?.instances, user.concurrentInvocations);
    if (violation) throw new WhiskError(400, violation);
    // As OpenWhisk's KindRestrictor: the kind the request names, its default resolved.
    const kind = put.exec && (resolveKind(put.exec.kind)?.kind ?? put.exec.kind);
    if (kind && !kindAllowed(user, kind)) throw new WhiskError(403, notAuthorizedToKind(kind));
    await checkWritablePackage(deps, namespace, path);
    const key = formatEntityPath(path);
    const existing = await deps.entities.get<StoredAction>(namespace, 'actions', key);
    if (existing && !overwrite) throw new WhiskError(409, Messages.exists);
    if (!existing) await checkNameFree(deps.entities, namespace, 'actions', key);
    const seqExec = put.exec?.kind === 'sequence' ? await sequenceExec(deps, namespace, path, put.exec.components) : undefined;
    const action = buildAction(namespace, path, put, existing && { ...existing.doc, revision: existing.revision }, seqExec);
    checkParameterSize(action.parameters);
    checkAnnotationSize(action.annotations);
    await saveEntity(deps.entities, namespace, 'actions', key, action, existing?.revision);
    return c.json(publicAction(action));
  });

  app.delete('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = resolveNamespace(c);
    const path = entityPathParam(c, 'actions');
    await checkWritablePackage(deps, namespace, path).catch((error: unknown) => {
      // A missing package just means a missing action; a binding is refused.
      if (!(error instanceof WhiskError && error.status === 404)) throw error;
    });
    const action = await loadEntity<StoredAction>(deps.entities, namespace, 'actions', formatEntityPath(path));
    await deleteEntity(deps.entities, namespace, 'actions', formatEntityPath(path), action.revision);
    return c.json(publicAction(action));
  });

  app.post('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = requestedNamespace(c);
    const resolved = await routedAction(deps, deps.entityCache ?? deps.entities, c.get('identity').namespace, { namespace, path: entityPathParam(c, 'actions') });
    return invokeAction(c, deps, resolved);
  });
}
