import { invocationArgs, resolveAction } from '../catalog/resolve';
import { newActivationId } from '../model/activation-id';
import type { ActivationRecord } from '../model/activation';
import { WhiskError } from '../model/errors';
import { parseQualifiedName } from '../model/names';
import type { RuleTarget, TriggerDoc } from '../model/triggers';
import type { Identity } from '../store/subjects';
import type { ControllerDeps } from './context';
import { enqueueActivation } from './invoke';

export interface FireRequest {
  identity: Identity;
  transactionId: string;
  trigger: TriggerDoc;
  payload: Record<string, unknown>;
  /** The caller's key, for rule actions that ask for it. */
  apiKey?: string;
}

/** One line of a trigger activation's logs: what one rule did with the event. */
async function fireRule(deps: ControllerDeps, request: FireRequest, triggerActivationId: string, ruleName: string, target: RuleTarget, args: Record<string, unknown>): Promise<string> {
  const action = `${target.action.path}/${target.action.name}`;
  if (target.status !== 'active') {
    return JSON.stringify({ statusCode: 1, success: false, error: `Rule '${ruleName}' is inactive, action '${action}' was not activated.`, rule: ruleName, action });
  }
  try {
    const reference = parseQualifiedName(`/${action}`, request.identity.namespace);
    if (!reference) throw new WhiskError(400, `The action '${action}' is not a valid name.`);
    const resolved = await resolveAction(deps.entityCache ?? deps.entities, request.identity.namespace, reference);
    const activationId = await enqueueActivation(deps, {
      identity: request.identity,
      transactionId: request.transactionId,
      resolved,
      payload: args,
      blocking: false,
      apiKey: request.apiKey,
      cause: triggerActivationId,
    });
    return JSON.stringify({ statusCode: 0, success: true, activationId, rule: ruleName, action });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const statusCode = error instanceof WhiskError && error.status < 500 ? 1 : 3;
    return JSON.stringify({ statusCode, success: false, error: message, rule: ruleName, action });
  }
}

/**
 * Fires a trigger: every active rule's action is invoked non-blocking with the trigger's
 * parameters under the payload, each caused by the trigger activation. The trigger activation
 * (result = the event, logs = one JSON line per rule) is stored before this returns its id.
 * Undefined when no rule is active: nothing runs and nothing is recorded. Every fire counts against
 * the namespace's fires per minute (a 429 over it); each rule's activation against its invocations.
 */
export async function fireTrigger(deps: ControllerDeps, request: FireRequest): Promise<string | undefined> {
  await deps.throttles.admitFire(request.identity);
  const rules = Object.entries(request.trigger.rules ?? {});
  if (!rules.some(([, target]) => target.status === 'active')) return undefined;
  const activationId = newActivationId();
  const start = Date.now();
  const args = invocationArgs(request.trigger.parameters, request.payload);
  const logs = await Promise.all(rules.map(([ruleName, target]) => fireRule(deps, request, activationId, ruleName, target, args)));
  const record: ActivationRecord = {
    activationId,
    namespace: request.identity.namespace,
    name: request.trigger.name,
    version: request.trigger.version,
    subject: request.identity.subject,
    publish: false,
    start,
    // The event as posted, as OpenWhisk records it (no size, no annotations, no end); the
    // trigger's parameters go only to the rules' actions.
    response: { status: 'success', statusCode: 0, success: true, result: request.payload },
    logs,
    annotations: [],
  };
  await deps.activations.complete(record, request.trigger.name);
  return activationId;
}
