import { activationResponse, type ActivationResponse } from '../model/activation';
import { SYSTEM_LIMITS } from '../model/limits';
import { ContainerGoneError, ContainerTimeoutError, ResponseTooLargeError, type ActionContainer, type RuntimeResponse } from './container';

/** What running one activation in a container produced. */
export interface Execution {
  response: ActivationResponse;
  /** Set when the container had to be initialised for this activation. */
  initTimeMs?: number;
  runStart: number;
  runEnd: number;
  timedOut: boolean;
  /** Developer and whisk errors destroy the container; success and application errors keep it. */
  keepContainer: boolean;
}

function timeLimitMessage(timeoutMs: number, during: 'init' | 'run'): string {
  return `The action exceeded its time limits of ${timeoutMs} milliseconds${during === 'init' ? ' during initialization' : ''}.`;
}

function errorText(response: RuntimeResponse, fallback: string): unknown {
  const body = response.body as { error?: unknown } | undefined;
  if (body && typeof body === 'object' && 'error' in body) return body.error;
  return response.text ? `${fallback} ${response.text}`.trim() : fallback;
}

/** Classifies a `/run` answer by OpenWhisk's taxonomy (shared/reference/openwhisk-api.md §6.2). */
export function classifyRun(response: RuntimeResponse): { response: ActivationResponse; keepContainer: boolean } {
  if (response.statusCode !== 200) {
    return { response: activationResponse('developerError', { error: errorText(response, 'The action did not produce a valid response.') }), keepContainer: false };
  }
  const result = response.body;
  if (result === null || typeof result !== 'object') {
    return {
      response: activationResponse('developerError', { error: `The action did not produce a valid JSON response: ${response.text}` }),
      keepContainer: false,
    };
  }
  const size = Buffer.byteLength(response.text);
  if (size > SYSTEM_LIMITS.maxResultSize) {
    return {
      response: activationResponse('applicationError', {
        error: `The action produced a response that exceeded the allowed length: ${size} > ${SYSTEM_LIMITS.maxResultSize} bytes.`,
      }),
      keepContainer: true,
    };
  }
  if (!Array.isArray(result) && 'error' in result) return { response: activationResponse('applicationError', result), keepContainer: true };
  return { response: activationResponse('success', result), keepContainer: true };
}

/**
 * Initialises (when cold) and runs one activation, with the action's time limit applied to init
 * and to run separately, as OpenWhisk does.
 */
export async function execute(
  container: ActionContainer,
  cold: boolean,
  initPayload: () => object,
  runPayload: object,
  timeoutMs: number,
  onInitialised: () => void = () => undefined,
): Promise<Execution> {
  let initTimeMs: number | undefined;
  if (cold) {
    const initStart = Date.now();
    let init: RuntimeResponse;
    try {
      init = await container.init(initPayload(), timeoutMs);
    } catch (error) {
      const now = Date.now();
      const timedOut = error instanceof ContainerTimeoutError;
      const message = timedOut ? timeLimitMessage(timeoutMs, 'init') : 'The action did not initialize and exited unexpectedly.';
      return { response: activationResponse('developerError', { error: message }), initTimeMs: now - initStart, runStart: initStart, runEnd: now, timedOut, keepContainer: false };
    }
    initTimeMs = Date.now() - initStart;
    if (init.statusCode === 200) onInitialised();
    if (init.statusCode !== 200) {
      const now = Date.now();
      return {
        response: activationResponse('developerError', { error: errorText(init, 'The action failed to initialize.') }),
        initTimeMs,
        runStart: initStart,
        runEnd: now,
        timedOut: false,
        keepContainer: false,
      };
    }
  }
  const runStart = Date.now();
  try {
    const run = await container.run(runPayload, timeoutMs);
    const runEnd = Date.now();
    return { ...classifyRun(run), initTimeMs, runStart, runEnd, timedOut: false };
  } catch (error) {
    const runEnd = Date.now();
    if (error instanceof ContainerTimeoutError) {
      return { response: activationResponse('developerError', { error: timeLimitMessage(timeoutMs, 'run') }), initTimeMs, runStart, runEnd, timedOut: true, keepContainer: false };
    }
    if (error instanceof ResponseTooLargeError) {
      return {
        response: activationResponse('developerError', { error: `The action produced a response that exceeded the allowed length: more than ${error.limitBytes} bytes.` }),
        initTimeMs,
        runStart,
        runEnd,
        timedOut: false,
        keepContainer: false,
      };
    }
    if (error instanceof ContainerGoneError) {
      const outOfMemory = (await container.oomKilled?.()) ?? false;
      return {
        response: activationResponse('developerError', {
          error: outOfMemory ? 'The action exhausted its memory and was aborted.' : 'The action did not produce a valid response and exited unexpectedly.',
        }),
        initTimeMs,
        runStart,
        runEnd,
        timedOut: false,
        keepContainer: false,
      };
    }
    throw error;
  }
}
