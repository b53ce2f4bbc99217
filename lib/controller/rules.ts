import type { Hono } from 'hono';
import { resolveAction } from '../catalog/resolve';
import { mergeAnnotations } from '../model/common';
import { parseQualifiedName, type EntityReference } from '../model/names';
import { rulePutSchema, ruleStatusSchema, type EntityName, type RuleDoc, type RulePut } from '../model/rules';
import type { RuleStatus, TriggerDoc } from '../model/triggers';
import type { ControllerDeps, ControllerEnv } from './context';
import { checkNameFree, deleteEntity, loadEntity, nextCommonFields, saveEntity, withoutRevision, type Revisioned } from './entity-store';
import { Messages, WhiskError } from './errors';
import { countAfterSkip, booleanParam, entityNameParam, listParams, parsedBody, resolveNamespace } from './request';

const INVALID_RULE = 'rule requires a valid trigger and a valid action';

/** A rule in a listing: OpenWhisk lists rules with their documents, trigger and action included, and no status. */
function ruleListed(rule: RuleDoc): object {
  const { namespace, name, version, publish, annotations, updated, trigger, action } = rule;
  return { namespace, name, version, publish, annotations, updated, trigger, action };
}

function entityName(reference: EntityReference): EntityName {
  return { path: reference.path.pkg ? `${reference.namespace}/${reference.path.pkg}` : reference.namespace, name: reference.path.name };
}

/** The rule as OpenWhisk returns it: status computed from its trigger's `rules` map. */
async function withStatus(deps: ControllerDeps, rule: RuleDoc): Promise<object> {
  const trigger = await deps.entities.get<TriggerDoc>(rule.trigger.path, 'triggers', rule.trigger.name);
  const status: RuleStatus = trigger?.doc.rules?.[`${rule.namespace}/${rule.name}`]?.status ?? 'inactive';
  return { ...withoutRevision(rule as Revisioned<RuleDoc>), status };
}

/**
 * Changes one trigger's `rules` map, retrying when another write raced it. Returns false when the
 * trigger does not exist.
 */
async function updateTriggerRules(
  deps: ControllerDeps,
  namespace: string,
  triggerName: string,
  change: (rules: NonNullable<TriggerDoc['rules']>) => void,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const stored = await deps.entities.get<TriggerDoc>(namespace, 'triggers', triggerName);
    if (!stored) return false;
    const rules = { ...stored.doc.rules };
    change(rules);
    const trigger = { ...stored.doc, rules, updated: Date.now(), revision: nextCommonFields({}, stored.doc).revision };
    try {
      await saveEntity(deps.entities, namespace, 'triggers', triggerName, trigger, stored.revision);
      return true;
    } catch (error) {
      if (!(error instanceof WhiskError && error.status === 409) || attempt >= 5) throw error;
    }
  }
}

/** The trigger (in the caller's namespace, not in a package) and the action (resolvable by the caller) a rule names. */
async function ruleTargets(deps: ControllerDeps, namespace: string, put: RulePut, existing: RuleDoc | undefined): Promise<{ trigger: EntityName; action: EntityName }> {
  const triggerName = put.trigger ?? (existing && `/${existing.trigger.path}/${existing.trigger.name}`);
  const actionName = put.action ?? (existing && `/${existing.action.path}/${existing.action.name}`);
  const trigger = triggerName ? parseQualifiedName(triggerName, namespace) : undefined;
  const action = actionName ? parseQualifiedName(actionName, namespace) : undefined;
  if (!trigger || !action || trigger.path.pkg || trigger.namespace !== namespace) throw new WhiskError(400, INVALID_RULE);
  // OpenWhisk's words, with the names fully qualified.
  const qualified = (ref: EntityReference) => `/${ref.namespace}/${ref.path.pkg ? `${ref.path.pkg}/` : ''}${ref.path.name}`;
  if (!(await deps.entities.get<TriggerDoc>(namespace, 'triggers', trigger.path.name))) {
    throw new WhiskError(400, `trigger ${qualified(trigger)} does not exist`);
  }
  try {
    await resolveAction(deps.entities, namespace, action);
  } catch (error) {
    if (error instanceof WhiskError && error.status === 404) throw new WhiskError(400, `action ${qualified(action)} does not exist`);
    throw error;
  }
  return { trigger: entityName(trigger), action: entityName(action) };
}

export function registerRuleRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/rules', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip, count } = listParams(c, 'rules');
    const all = await deps.entities.list<RuleDoc>(namespace, 'rules');
    if (count) return c.json({ rules: countAfterSkip(all.length, skip) });
    return c.json(all.slice(skip, skip + limit).map((e) => ruleListed(e.doc)));
  });

  app.get('/namespaces/:ns/rules/:name', async (c) => {
    const namespace = resolveNamespace(c);
    return c.json(await withStatus(deps, await loadEntity<RuleDoc>(deps.entities, namespace, 'rules', entityNameParam(c, 'rules'))));
  });

  app.put('/namespaces/:ns/rules/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const name = entityNameParam(c, 'rules');
    const overwrite = booleanParam(c, 'overwrite', false);
    const put = await parsedBody(c, rulePutSchema);
    const stored = await deps.entities.get<RuleDoc>(namespace, 'rules', name);
    if (stored && !overwrite) throw new WhiskError(409, Messages.exists);
    if (!stored) await checkNameFree(deps.entities, namespace, 'rules', name);
    const existing = stored?.doc;
    const targets = await ruleTargets(deps, namespace, put, existing);
    const rule: Revisioned<RuleDoc> = {
      namespace,
      name,
      ...nextCommonFields(put, existing),
      annotations: mergeAnnotations(existing?.annotations, put.annotations, put.delAnnotations),
      ...targets,
    };
    const ruleKey = `${namespace}/${name}`;
    const previousStatus = existing
      ? (await deps.entities.get<TriggerDoc>(existing.trigger.path, 'triggers', existing.trigger.name))?.doc.rules?.[ruleKey]?.status
      : undefined;
    // New rules are active; an update keeps the status unless the body sets one.
    const status: RuleStatus = put.status || previousStatus || 'active';
    await saveEntity(deps.entities, namespace, 'rules', name, rule, stored?.revision);
    if (existing && existing.trigger.name !== rule.trigger.name) {
      await updateTriggerRules(deps, namespace, existing.trigger.name, (rules) => delete rules[ruleKey]);
    }
    await updateTriggerRules(deps, namespace, rule.trigger.name, (rules) => (rules[ruleKey] = { action: rule.action, status }));
    return c.json({ ...withoutRevision(rule), status });
  });

  // Enable or disable: `{"status": "active" | "inactive"}`.
  app.post('/namespaces/:ns/rules/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const rule = await loadEntity<RuleDoc>(deps.entities, namespace, 'rules', entityNameParam(c, 'rules'));
    const { status } = await parsedBody(c, ruleStatusSchema);
    const ruleKey = `${namespace}/${rule.name}`;
    const found = await updateTriggerRules(deps, namespace, rule.trigger.name, (rules) => (rules[ruleKey] = { action: rule.action, status }));
    if (!found) throw new WhiskError(404, 'Only rules with existing triggers can be activated.');
    // OpenWhisk answers a state change with the bare status text; clients GET the rule to show it.
    return c.text('OK');
  });

  app.delete('/namespaces/:ns/rules/:name', async (c) => {
    const namespace = resolveNamespace(c);
    const rule = await loadEntity<RuleDoc>(deps.entities, namespace, 'rules', entityNameParam(c, 'rules'));
    await deleteEntity(deps.entities, namespace, 'rules', rule.name, rule.revision);
    await updateTriggerRules(deps, namespace, rule.trigger.name, (rules) => delete rules[`${namespace}/${rule.name}`]);
    return c.json({ ...withoutRevision(rule), status: 'inactive' });
  });
}

