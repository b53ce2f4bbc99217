import type { ActivationMessage } from '../model/activation';
import type { Parameter, StoredAction } from '../model/entity';

/** Parameters marked `init: true` reach the container only as `/init` environment. */
export function splitParameters(parameters: Parameter[]): { initParams: Parameter[]; runParams: Record<string, unknown> } {
  const initParams = parameters.filter((p) => p.init);
  const runParams = Object.fromEntries(parameters.filter((p) => !p.init).map((p) => [p.key, p.value]));
  return { initParams, runParams };
}

function actionName(action: StoredAction): string {
  return `/${action.namespace}/${action.name}`;
}

/** The `/init` body (shared/reference/openwhisk-api.md §8.1). */
export function buildInitPayload(action: StoredAction, message: ActivationMessage, initParams: Parameter[], deadline: number): object {
  const env: Record<string, string> = {};
  for (const p of initParams) env[p.key] = typeof p.value === 'string' ? p.value : JSON.stringify(p.value);
  Object.assign(env, {
    __OW_NAMESPACE: message.namespace,
    __OW_ACTION_NAME: actionName(action),
    __OW_ACTION_VERSION: action.version,
    __OW_ACTIVATION_ID: message.activationId,
    __OW_TRANSACTION_ID: message.transactionId,
    __OW_DEADLINE: String(deadline),
    ...(message.apiKey ? { __OW_API_KEY: message.apiKey } : {}),
  });
  // A blackbox action may have no code: then /init carries none, as in OpenWhisk.
  const code = action.exec.code ? { code: action.exec.code } : {};
  return {
    value: { name: action.name, main: action.exec.main ?? 'main', ...code, binary: action.exec.binary, env },
  };
}

/** The `/run` body: arguments plus the activation context the runtime exports as `__OW_*`. */
export function buildRunPayload(action: StoredAction, message: ActivationMessage, args: Record<string, unknown>, deadline: number): object {
  return {
    value: args,
    namespace: message.namespace,
    action_name: actionName(action),
    action_version: action.version,
    activation_id: message.activationId,
    transaction_id: message.transactionId,
    deadline: String(deadline),
    ...(message.apiKey ? { api_key: message.apiKey } : {}),
  };
}
