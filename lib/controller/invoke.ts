import { deprecatedKindMessage } from '../model/runtimes';
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { waitForRecord } from '../bus/result-waiter';
import { newActivationId } from '../model/activation-id';
import type { ActivationMessage, ActivationRecord } from '../model/activation';
import { checkFinalParameters, invocationArgs, receivesApiKey, type ResolvedAction } from '../catalog/resolve';
import { SYSTEM_LIMITS } from '../model/limits';
import { formatEntityPath } from '../model/names';
import type { Identity } from '../store/subjects';
import { publicRecord } from './activations';
import { claimForHolder, recordOfTaken } from './taken-activation';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { booleanParam, jsonObjectBody } from './request';

type Ctx = Context<ControllerEnv>;

export const ACTIVATION_ID_HEADER = 'x-openwhisk-activation-id';
/** The largest message SQS carries. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

function blockingTimeout(c: Ctx, maxWaitMs: number): number {
  const raw = c.req.query('timeout');
  if (raw === undefined || raw === '') return maxWaitMs;
  if (!/^\d+$/.test(raw)) throw new WhiskError(400, Messages.badTimeout);
  const value = Number(raw);
  if (value < 1 || value > 60_000) throw new WhiskError(400, Messages.badTimeout);
  return Math.min(value, maxWaitMs);
}

/** HTTP status of a finished blocking invoke: 200 success, 502 application/developer error, 500 whisk error. */
export function statusOf(record: ActivationRecord): 200 | 500 | 502 {
  if (record.response.statusCode === 0) return 200;
  return record.response.statusCode === 3 ? 500 : 502;
}

export interface ActivationRequest {
  identity: Identity;
  transactionId: string;
  resolved: ResolvedAction;
  /** The invoke body; bound parameters are merged under it here. */
  payload: Record<string, unknown>;
  blocking: boolean;
  /** The caller's `uuid:key`, handed to actions that ask for it (and to compositions, for their components). */
  apiKey?: string;
  cause?: string;
}

/** An admitted activation: its message, serialized once (for the size check, the queue and dispatch). */
interface AdmittedActivation {
  activationId: string;
  identity: Identity;
  body: string;
  /** What places the action on its home invoker. */
  homeKey: string;
  /** Whether its lease is written (it goes through the queue). */
  leased: boolean;
  message: ActivationMessage;
}

/**
 * Builds the activation's message and admits it within the namespace's throttles (a 429
 * otherwise). An admitted activation holds a slot until its record is stored.
 */
async function admitActivation(deps: ControllerDeps, request: ActivationRequest, lease: boolean): Promise<AdmittedActivation> {
  const { resolved, identity, payload } = request;
  // Every way in (invoke, web action, trigger fire, rule) refuses a kind the manifest deprecates.
  const deprecated = deprecatedKindMessage(resolved.action.exec.kind);
  if (deprecated) throw new WhiskError(400, deprecated);
  const activationId = newActivationId();
  const actionPath = formatEntityPath(resolved.reference.path);
  const message: ActivationMessage = {
    activationId,
    transactionId: request.transactionId,
    namespace: identity.namespace,
    subject: identity.subject,
    action: { namespace: resolved.reference.namespace, path: actionPath, revision: resolved.action.revision },
    params: invocationArgs(resolved.parameters, payload),
    blocking: request.blocking,
    acceptedAt: Date.now(),
    ...(request.apiKey && receivesApiKey(resolved.action) ? { apiKey: request.apiKey } : {}),
    ...(request.cause ? { cause: request.cause } : {}),
    ...(resolved.binding ? { binding: resolved.binding } : {}),
  };
  // OpenWhisk counts the payload with the action's bound parameters against its 1 MB limit; the
  // message (payload plus envelope) must also fit in one SQS message.
  const body = JSON.stringify(message);
  const payloadBytes = Buffer.byteLength(JSON.stringify(payload)) + Buffer.byteLength(JSON.stringify(resolved.parameters));
  if (payloadBytes > SYSTEM_LIMITS.maxPayloadSize || Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
    throw new WhiskError(413, Messages.tooLarge);
  }
  await deps.throttles.admitActivation(identity, activationId, lease);
  return { activationId, identity, body, leased: lease, message, homeKey: `${message.namespace}|${message.action.namespace}/${actionPath}` };
}

/** Puts an admitted activation on the queue; not accepted (it throws), its slot is given back unless `cancelOnFailure` is false. */
async function sendToQueue(deps: ControllerDeps, admitted: AdmittedActivation, cancelOnFailure = true): Promise<void> {
  // An invoker fleet that scaled to zero is woken in the background: the message waits for it.
  deps.waker?.wake().catch(() => undefined);
  try {
    if (!admitted.leased) {
      await deps.throttles.leaseActivation(admitted.identity, admitted.activationId);
      admitted.leased = true;
    }
    await deps.queue.sendRaw(admitted.body);
  } catch (error) {
    // An accepted one is given back when its record is stored.
    if (cancelOnFailure) await deps.throttles.cancelActivation(admitted.identity, admitted.activationId, admitted.leased).catch(() => undefined);
    throw error;
  }
}

/** How long a non-blocking activation waits for an invoker to accept it before the queue takes it. */
const NON_BLOCKING_ACCEPT_MS = 1000;

/**
 * Starts one activation without waiting for it and returns its id, within the namespace's
 * throttles (a 429 otherwise): on the queue, or, with `directNonBlocking`, straight on an invoker
 * with room (the queue otherwise). Every id returned ends in a record: one an invoker accepted (or
 * may have) has a claim in that invoker's name before its id is returned, which the invoker
 * replaces with the record (or, were it to die, its successor or a sweep records as abandoned);
 * one on the queue is claimed by the invoker that takes it.
 */
export async function enqueueActivation(deps: ControllerDeps, request: ActivationRequest): Promise<string> {
  const dispatcher = deps.directNonBlocking ? deps.dispatcher : undefined;
  const admitted = await admitActivation(deps, request, !dispatcher);
  if (dispatcher) {
    const result = await dispatcher.dispatch(admitted.homeKey, admitted.body, Date.now() + NON_BLOCKING_ACCEPT_MS, { untilAccepted: true });
    if (result.kind === 'taken') {
      await claimForHolder(deps, admitted.message, result.holder);
      return admitted.activationId;
    }
    if (result.kind === 'record') return admitted.activationId;
  }
  await sendToQueue(deps, admitted);
  return admitted.activationId;
}

/**
 * Runs one activation blocking: straight on an invoker when the platform dispatches directly (the
 * record comes back on the connection), else, or when surely no invoker took it, through the
 * queue. Returns its id and, unless `waitMs` passed first, its record. Every id returned ends in a
 * record: one an invoker has (or may have) is recorded by it, or, were it to die, by whoever finds
 * the claim written in its name (see recordOfTaken); one no invoker took is on the queue before
 * the id is returned.
 */
export async function runBlocking(deps: ControllerDeps, request: ActivationRequest, waitMs: number, signal?: AbortSignal): Promise<{ activationId: string; record?: ActivationRecord }> {
  const deadline = Date.now() + waitMs;
  // Dispatched straight to an invoker, an activation needs no lease: that invoker knows it runs it.
  const admitted = await admitActivation(deps, request, !deps.dispatcher);
  const { activationId, identity, homeKey } = admitted;
  const expectedMs = deps.recentDurations?.expected(homeKey);
  const noted = (record: ActivationRecord | undefined) => {
    if (record?.duration !== undefined) deps.recentDurations?.note(homeKey, record.duration);
    return { activationId, record };
  };
  if (deps.dispatcher) {
    const result = await deps.dispatcher.dispatch(homeKey, admitted.body, deadline);
    if (result.kind === 'record') return noted(result.record);
    if (result.kind === 'taken') return noted(await recordOfTaken(deps, identity, admitted.message, result.holder, { deadline, signal, expectedMs }));
  }
  await sendToQueue(deps, admitted);
  return noted(await waitForRecord(deps.activations, identity.namespace, activationId, Math.max(0, deadline - Date.now()), signal, expectedMs));
}

export async function invokeAction(c: Ctx, deps: ControllerDeps, resolved: ResolvedAction): Promise<Response> {
  const blocking = booleanParam(c, 'blocking', false);
  const resultOnly = booleanParam(c, 'result', false);
  const waitMs = blocking ? blockingTimeout(c, deps.maxBlockingWaitMs) : 0;
  const payload = await jsonObjectBody(c);
  checkFinalParameters(resolved, payload);
  const request: ActivationRequest = { identity: c.get('identity'), transactionId: c.get('transactionId'), resolved, payload, blocking, apiKey: apiKeyOf(c) };
  if (!blocking) {
    const activationId = await enqueueActivation(deps, request);
    c.header(ACTIVATION_ID_HEADER, activationId);
    return c.json({ activationId }, 202);
  }
  const { activationId, record } = await runBlocking(deps, request, waitMs, c.req.raw.signal);
  c.header(ACTIVATION_ID_HEADER, activationId);
  if (!record) return c.json({ activationId }, 202);
  const status = statusOf(record);
  // As OpenWhisk's controller: an array result is the whole answer, record or not.
  if (resultOnly || Array.isArray(record.response.result)) return c.json(record.response.result ?? {}, status);
  return c.json(publicRecord(record), status);
}

export function apiKeyOf(c: Ctx): string | undefined {
  const header = c.req.header('authorization') ?? '';
  const encoded = header.replace(/^Basic\s+/i, '');
  return encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined;
}

export function newTransactionId(): string {
  return randomUUID().replaceAll('-', '');
}
