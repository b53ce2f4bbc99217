import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import {
  actionPutSchema,
  bumpPatch,
  mergeParameters,
  setAnnotation,
  type Action,
  type ActionPut,
  type StoredAction,
} from '../model/entity';
import { DEFAULT_ACTION_LIMITS } from '../model/limits';
import { formatEntityPath, type EntityPath } from '../model/names';
import { resolveKind, supportedKinds } from '../model/runtimes';
import { ConcurrentUpdateError, EntityExistsError } from '../store/entities';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { invokeAction } from './invoke';
import { booleanParam, entityPathParam, jsonObjectBody, listParams, resolveNamespace } from './request';

type Ctx = Context<ControllerEnv>;

export function newRevision(): string {
  return randomBytes(8).toString('hex');
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${Messages.malformed}: ${where}${issue.message}`;
}

function actionNamespace(namespace: string, path: EntityPath): string {
  return path.pkg ? `${namespace}/${path.pkg}` : namespace;
}

function publicAction(action: StoredAction, includeCode = true): Action {
  const { revision: _revision, ...doc } = action;
  if (includeCode) return doc;
  const { code: _code, ...exec } = doc.exec;
  return { ...doc, exec: exec as Action['exec'] };
}

function actionBrief(action: StoredAction): object {
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

function resolveExec(exec: NonNullable<ActionPut['exec']>): StoredAction['exec'] {
  if (exec.kind === 'blackbox') {
    // Any image speaking the action protocol on port 8080; code is optional (the image may bring its own).
    if (!exec.image || !IMAGE_REFERENCE.test(exec.image) || exec.image.length > 255) {
      throw new WhiskError(400, `${Messages.malformed}: exec.image must name a Docker image for kind 'blackbox'.`);
    }
    return { kind: 'blackbox', image: exec.image, code: exec.code ?? '', binary: exec.binary ?? false, ...(exec.main ? { main: exec.main } : {}) };
  }
  const runtime = resolveKind(exec.kind);
  if (!runtime) {
    throw new WhiskError(
      400,
      `The specified runtime '${exec.kind}' is not supported by this platform. Valid values are: ${[...supportedKinds(), 'blackbox'].join(', ')}.`,
    );
  }
  if (runtime.deprecated) throw new WhiskError(400, `The '${runtime.kind}' runtime is no longer supported. You may read and delete but not update or invoke this action.`);
  if (typeof exec.code !== 'string' || exec.code.length === 0) throw new WhiskError(400, `${Messages.malformed}: exec.code is required for kind '${runtime.kind}'.`);
  return { kind: runtime.kind, code: exec.code, binary: exec.binary ?? false, ...(exec.main ? { main: exec.main } : {}) };
}

/** Builds the stored action from a PUT body, merged over the existing action on update. */
function buildAction(namespace: string, path: EntityPath, put: ActionPut, existing: StoredAction | undefined): StoredAction {
  if (!existing && !put.exec) throw new WhiskError(400, 'exec undefined');
  const exec = put.exec ? resolveExec(put.exec) : existing!.exec;
  let annotations = existing ? mergeParameters(existing.annotations, put.annotations ?? []) : (put.annotations ?? []);
  if (put.delAnnotations) annotations = annotations.filter((a) => !put.delAnnotations!.includes(a.key));
  annotations = setAnnotation(annotations, 'exec', exec.kind);
  if (!annotations.some((a) => a.key === 'provide-api-key')) annotations.push({ key: 'provide-api-key', value: false });
  const limits = { ...DEFAULT_ACTION_LIMITS, ...existing?.limits, ...put.limits };
  if (limits.concurrency > 1 && !exec.kind.startsWith('nodejs:')) {
    throw new WhiskError(400, `The kind '${exec.kind}' does not support a concurrency limit above 1.`);
  }
  return {
    namespace: actionNamespace(namespace, path),
    name: path.name,
    version: put.version ?? (existing ? bumpPatch(existing.version) : '0.0.1'),
    publish: put.publish ?? existing?.publish ?? false,
    exec,
    annotations,
    parameters: put.parameters ?? existing?.parameters ?? [],
    limits,
    updated: Date.now(),
    revision: newRevision(),
  };
}

async function loadAction(deps: ControllerDeps, namespace: string, path: EntityPath): Promise<StoredAction> {
  const stored = await deps.entities.get<StoredAction>(namespace, 'actions', formatEntityPath(path));
  if (!stored) throw new WhiskError(404, Messages.notFound);
  return { ...stored.doc, revision: stored.revision };
}

export function registerActionRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/actions', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip, count } = listParams(c, 'actions');
    const all = await deps.entities.list<StoredAction>(namespace, 'actions');
    if (count) return c.json({ actions: all.length });
    return c.json(all.slice(skip, skip + limit).map((e) => actionBrief({ ...e.doc, revision: e.revision })));
  });

  // `GET .../actions/pkg/` lists the actions of one package.
  app.get('/namespaces/:ns/actions/:pkg{[^/]+}/', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip } = listParams(c, 'actions');
    const all = await deps.entities.list<StoredAction>(namespace, 'actions', c.req.param('pkg'));
    return c.json(all.slice(skip, skip + limit).map((e) => actionBrief({ ...e.doc, revision: e.revision })));
  });

  app.get('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = resolveNamespace(c);
    const action = await loadAction(deps, namespace, entityPathParam(c, 'actions'));
    return c.json(publicAction(action, booleanParam(c, 'code', true)));
  });

  app.put('/namespaces/:ns/actions/:name{.+}', async (c: Ctx) => {
    const namespace = resolveNamespace(c);
    const path = entityPathParam(c, 'actions');
    const overwrite = booleanParam(c, 'overwrite', false);
    const parsed = actionPutSchema.safeParse(await jsonObjectBody(c));
    if (!parsed.success) throw new WhiskError(400, zodMessage(parsed.error));
    const key = formatEntityPath(path);
    const existing = await deps.entities.get<StoredAction>(namespace, 'actions', key);
    if (existing && !overwrite) throw new WhiskError(409, Messages.exists);
    const action = buildAction(namespace, path, parsed.data, existing && { ...existing.doc, revision: existing.revision });
    const { revision, ...doc } = action;
    try {
      await deps.entities.put(namespace, 'actions', key, doc, revision, action.updated, existing?.revision);
    } catch (error) {
      if (error instanceof EntityExistsError) throw new WhiskError(409, Messages.exists);
      if (error instanceof ConcurrentUpdateError) throw new WhiskError(409, Messages.concurrentUpdate);
      throw error;
    }
    return c.json(publicAction(action));
  });

  app.delete('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = resolveNamespace(c);
    const path = entityPathParam(c, 'actions');
    const action = await loadAction(deps, namespace, path);
    const deleted = await deps.entities.delete(namespace, 'actions', formatEntityPath(path), action.revision);
    if (!deleted) throw new WhiskError(409, Messages.concurrentUpdate);
    return c.json(publicAction(action));
  });

  app.post('/namespaces/:ns/actions/:name{.+}', async (c) => {
    const namespace = resolveNamespace(c);
    const path = entityPathParam(c, 'actions');
    const action = await loadAction(deps, namespace, path);
    return invokeAction(c, deps, namespace, path, action);
  });
}
