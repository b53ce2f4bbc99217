import {
  invocationArgs,
  isSequence,
  receivesApiKey,
  resolveAction,
  sequenceComponents,
  type ResolvedAction,
} from '../catalog/resolve';
import { newActivationId } from '../model/activation-id';
import { activationResponse, recordEnvelope, recordLimits, type ActivationMessage, type ActivationRecord, type ActivationResponse } from '../model/activation';
import type { KeyValue, StoredAction } from '../model/entity';
import { Messages, WhiskError } from '../model/errors';
import { SYSTEM_LIMITS } from '../model/limits';
import { formatEntityPath, parseQualifiedName, type EntityReference } from '../model/names';
import type { EntitiesRepository } from '../store/entities';
import { isJsonObject } from '../model/json-object';

/**
 * Atomic actions and conductor steps used so far by one top-level composition; nested sequences
 * and conductors share it, as OpenWhisk counts them globally.
 */
export interface CompositionBudget {
  components: number;
  conductorSteps: number;
}

export function newBudget(): CompositionBudget {
  return { components: 0, conductorSteps: 0 };
}

export interface CompositionRunner {
  entities: EntitiesRepository;
  /** Runs one child activation to its stored record (claimed, executed, recorded). */
  runChild(message: ActivationMessage, budget: CompositionBudget): Promise<ActivationRecord>;
}

function childMessage(parent: ActivationMessage, resolved: ResolvedAction, input: Record<string, unknown>, extra: Partial<ActivationMessage> = {}): ActivationMessage {
  return {
    activationId: newActivationId(),
    transactionId: parent.transactionId,
    namespace: parent.namespace,
    subject: parent.subject,
    action: { namespace: resolved.reference.namespace, path: formatEntityPath(resolved.reference.path), revision: resolved.action.revision },
    params: invocationArgs(resolved.parameters, input),
    blocking: true,
    acceptedAt: Date.now(),
    ...(parent.apiKey && receivesApiKey(resolved.action) ? { apiKey: parent.apiKey } : {}),
    cause: parent.activationId,
    causedBy: 'sequence',
    ...(resolved.binding ? { binding: resolved.binding } : {}),
    ...extra,
  };
}

/** What a composition's record shows: OpenWhisk's sequence record layout. */
function compositionRecord(
  message: ActivationMessage,
  action: StoredAction,
  start: number,
  children: ActivationRecord[],
  response: ActivationResponse,
  extraAnnotations: KeyValue[],
): ActivationRecord {
  const end = Math.max(start, Date.now());
  const memory = Math.max(action.limits.memory, ...children.map((r) => (r.annotations.find((a) => a.key === 'limits')?.value as { memory?: number })?.memory ?? 0));
  return {
    ...recordEnvelope(message, action.name, action.version),
    start,
    end,
    duration: children.reduce((sum, r) => sum + (r.duration ?? 0), 0),
    response,
    logs: children.map((r) => r.activationId),
    annotations: [
      { key: 'topmost', value: !message.causedBy },
      { key: 'path', value: `${message.action.namespace}/${message.action.path}` },
      { key: 'waitTime', value: Math.max(0, start - message.acceptedAt) },
      { key: 'kind', value: 'sequence' },
      { key: 'limits', value: { ...recordLimits(action.limits), memory } },
      ...(message.causedBy ? [{ key: 'causedBy', value: message.causedBy }] : []),
      ...(message.binding ? [{ key: 'binding', value: message.binding }] : []),
      ...extraAnnotations,
    ],
  };
}

function errorResponse(error: unknown): ActivationResponse {
  if (error instanceof WhiskError && error.status < 500) return activationResponse('applicationError', { error: error.message });
  throw error;
}

/**
 * Runs a sequence from the invoker (no controller request waits on it): each component gets its
 * own activation caused by the sequence; each result is the next component's input; the first
 * failure ends the chain. The record lists the component ids and carries the last response.
 */
export async function runSequence(runner: CompositionRunner, message: ActivationMessage, action: StoredAction, budget: CompositionBudget): Promise<ActivationRecord> {
  const start = Date.now();
  const children: ActivationRecord[] = [];
  let input: Record<string, unknown> = message.params;
  let response: ActivationResponse = activationResponse('success', input);
  for (const component of sequenceComponents(action, message.namespace)) {
    let resolved: ResolvedAction;
    try {
      resolved = await resolveAction(runner.entities, message.namespace, component);
    } catch (error) {
      response = errorResponse(error instanceof WhiskError && error.status === 404 ? new WhiskError(400, Messages.sequenceComponentMissing) : error);
      break;
    }
    if (!isSequence(resolved.action) && ++budget.components > SYSTEM_LIMITS.sequenceMaxLength) {
      response = activationResponse('applicationError', { error: Messages.sequenceTooLong });
      break;
    }
    const record = await runner.runChild(childMessage(message, resolved, input), budget);
    children.push(record);
    response = record.response;
    if (response.statusCode !== 0) break;
    input = isJsonObject(response.result) ? response.result : {};
  }
  return compositionRecord(message, action, start, children, response, []);
}

/** A conductor's next component, or the error fed back to the conductor when it cannot be used. */
async function resolveComponent(runner: CompositionRunner, caller: string, reference: EntityReference, name: string): Promise<ResolvedAction | { error: string }> {
  try {
    return await resolveAction(runner.entities, caller, reference);
  } catch (error) {
    if (!(error instanceof WhiskError)) throw error;
    if (error.status === 403) return { error: `Failed entitlement check for action with name '${name}' during composition.` };
    return { error: `Failed to resolve action with name '${name}' during composition.` };
  }
}

/**
 * Runs a conductor action: each step's `{action, params, state}` names the next component; the
 * component's result merged with `state` goes back to the conductor; a step without `action`
 * ends the run with its `params` (or its whole output). At most n components and 2n+1 steps.
 */
export async function runConductor(
  runner: CompositionRunner,
  message: ActivationMessage,
  conductor: ResolvedAction,
  budget: CompositionBudget,
): Promise<ActivationRecord> {
  const start = Date.now();
  const max = SYSTEM_LIMITS.sequenceMaxLength;
  const children: ActivationRecord[] = [];
  let input: Record<string, unknown> = message.params;
  let response: ActivationResponse;
  for (;;) {
    if (++budget.conductorSteps > 2 * max + 1) {
      response = activationResponse('applicationError', { error: Messages.compositionTooLong });
      break;
    }
    const step = await runner.runChild(childMessage(message, conductor, input, { conductorStep: true }), budget);
    children.push(step);
    response = step.response;
    if (response.statusCode !== 0) break;
    const output = isJsonObject(response.result) ? response.result : {};
    if (typeof output.action !== 'string') {
      response = activationResponse('success', 'params' in output ? output.params : output);
      break;
    }
    const params = output.params === undefined ? {} : isJsonObject(output.params) ? output.params : { value: output.params };
    const state = output.state === undefined ? {} : isJsonObject(output.state) ? output.state : { state: output.state };
    let result: unknown;
    if (++budget.components > max) {
      result = { error: Messages.compositionTooLong };
    } else {
      const reference = parseQualifiedName(output.action, message.namespace);
      const resolved = reference ? await resolveComponent(runner, message.namespace, reference, output.action) : { error: `Failed to parse action name from json value ${JSON.stringify(output.action)} during composition.` };
      if ('error' in resolved) {
        result = resolved;
      } else {
        const record = await runner.runChild(childMessage(message, resolved, params), budget);
        children.push(record);
        result = record.response.result;
      }
    }
    input = { ...(isJsonObject(result) ? result : { value: result }), ...state };
  }
  return compositionRecord(message, conductor.action, start, children, response, [{ key: 'conductor', value: true }]);
}
