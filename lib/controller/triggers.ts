import type { Hono } from 'hono';
import { mergeAnnotations } from '../model/common';
import { annotationValue } from '../model/entity';
import { SYSTEM_LIMITS } from '../model/limits';
import { parseQualifiedName } from '../model/names';
import { triggerPutSchema, type TriggerDoc, type TriggerPut } from '../model/triggers';
import type { ControllerDeps, ControllerEnv } from './context';
import { checkNameFree, deleteEntity, loadEntity, nextCommonFields, saveEntity, withoutRevision, type Revisioned } from './entity-store';
import { Messages, WhiskError } from './errors';
import { fireTrigger } from './fire';
import { ACTIVATION_ID_HEADER, apiKeyOf } from './invoke';
import { countAfterSkip, booleanParam, checkParameterSize, entityNameParam, jsonObjectBody, listParams, parsedBody, resolveNamespace } from './request';

function triggerBrief(trigger: TriggerDoc): object {
  const { namespace, name, version, publish, annotations, updated } = trigger;
  return { namespace, name, version, publish, annotations, updated };
}

function buildTrigger(namespace: string, name: string, put: TriggerPut, existing: Revisioned<TriggerDoc> | undefined): Revisioned<TriggerDoc> {
  const annotations = mergeAnnotations(existing?.annotations, put.annotations, put.delAnnotations);
  const feed = annotationValue(annotations, 'feed');
  if (feed !== undefined && (typeof feed !== 'string' || !parseQualifiedName(feed, namespace))) {
    throw new WhiskError(400, `The feed annotation '${JSON.stringify(feed)}' does not name an action.`);
  }
  return {
    namespace,
    name,
    ...nextCommonFields(put, existing),
    annotations,
    parameters: put.parameters ?? existing?.parameters ?? [],
    limits: {},
    // Rule status lives in the trigger: an update keeps it.
    ...(existing?.rules ? { rules: existing.rules } : {}),
  };
}

export function registerTriggerRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/triggers', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip, count } = listParams(c, 'triggers');
    const all = await deps.entities.list<TriggerDoc>(namespace, 'triggers');
    if (count) return c.json({ triggers: countAfterSkip(all.length, skip) });
    return c.json(all.slice(skip, skip + limit).map((e) => triggerBrief(e.doc)));
  });

  app.get('/namespaces/:ns/triggers/:name', async (c) => {
    const namespace = resolveNamespace(c);
    return c.json(withoutRevision(await loadEntity<TriggerDoc>(deps.entities, namespace, 'triggers', entityNameParam(c, 'triggers'))));
  });

  app.put('/namespaces/:ns/triggers/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const name = entityNameParam(c, 'triggers');
    const overwrite = booleanParam(c, 'overwrite', false);
    const put = await parsedBody(c, triggerPutSchema);
    checkParameterSize(put.parameters);
    const stored = await deps.entities.get<TriggerDoc>(namespace, 'triggers', name);
    if (stored && !overwrite) throw new WhiskError(409, Messages.exists);
    if (!stored) await checkNameFree(deps.entities, namespace, 'triggers', name);
    const trigger = buildTrigger(namespace, name, put, stored && { ...stored.doc, revision: stored.revision });
    await saveEntity(deps.entities, namespace, 'triggers', name, trigger, stored?.revision);
    return c.json(withoutRevision(trigger));
  });

  app.delete('/namespaces/:ns/triggers/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const name = entityNameParam(c, 'triggers');
    const trigger = await loadEntity<TriggerDoc>(deps.entities, namespace, 'triggers', name);
    await deleteEntity(deps.entities, namespace, 'triggers', name, trigger.revision);
    return c.json(withoutRevision(trigger));
  });

  app.post('/namespaces/:ns/triggers/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const trigger = await loadEntity<TriggerDoc>(deps.entities, namespace, 'triggers', entityNameParam(c, 'triggers'));
    const payload = await jsonObjectBody(c);
    if (Buffer.byteLength(JSON.stringify(payload)) + Buffer.byteLength(JSON.stringify(trigger.parameters)) > SYSTEM_LIMITS.maxPayloadSize) {
      throw new WhiskError(413, Messages.tooLarge);
    }
    const activationId = await fireTrigger(deps, {
      identity: c.get('identity'),
      transactionId: c.get('transactionId'),
      trigger,
      payload,
      apiKey: apiKeyOf(c),
    });
    if (!activationId) return c.body(null, 204);
    c.header(ACTIVATION_ID_HEADER, activationId);
    return c.json({ activationId }, 202);
  });
}
