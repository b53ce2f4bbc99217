import { waitForRecord } from '../bus/result-waiter';
import { ABANDONED_ERROR, failedRecord } from '../invoker/failed-records';
import type { ActivationMessage, ActivationRecord } from '../model/activation';
import { claimedActivationOf } from '../store/activations';
import { retryFor } from '../store/retry';
import type { Identity } from '../store/subjects';
import type { ControllerDeps } from './context';

/**
 * How long the claim written for an invoker is retried while the store is away for a moment:
 * short, since the client waits (and, on AWS, API Gateway ends the request at 29 s).
 */
const CLAIM_RETRY_MS = 2000;

/**
 * Writes the claim of an activation an invoker process has (or may have) in that process's name,
 * unless a claim or a record is there already: what makes its id sure to end in a record once the
 * answer is not waited for. Throws when the store stays away (the id must not be handed out then).
 */
export async function claimForHolder(deps: Pick<ControllerDeps, 'activations'>, message: ActivationMessage, holder: string): Promise<void> {
  await retryFor(CLAIM_RETRY_MS, () => deps.activations.claimOnBehalf(message.namespace, message.activationId, holder, claimedActivationOf(message, true)));
}

/**
 * The record of a directly dispatched activation whose answer did not come back on the connection
 * (it broke, or the deadline passed): the invoker process `holder` has it, or may have, and it
 * must run nowhere else. An invoker runs a dispatch without claiming it, so a claim in the
 * holder's name goes in the store first (unless a record or a claim is there already): the
 * holder replaces it with the record when it finishes; if the holder never got the activation,
 * it records the claim as abandoned; if it is gone, whoever sweeps its claims does. The record is
 * waited for until `deadline`; if none came and the claim's holder is gone by then, this process
 * records it as abandoned itself, over that very claim only. Undefined: still running on a live
 * holder, whose record will follow (the caller answers 202 with the id).
 */
export async function recordOfTaken(
  deps: Pick<ControllerDeps, 'activations' | 'invokers' | 'throttles'>,
  identity: Identity,
  message: ActivationMessage,
  holder: string,
  wait: { deadline: number; signal?: AbortSignal; expectedMs?: number },
): Promise<ActivationRecord | undefined> {
  const { namespace, activationId } = message;
  // Until this lands nothing promises the id a record: were the store away throughout, the
  // request fails without one.
  await claimForHolder(deps, message, holder);
  try {
    const record = await waitForRecord(deps.activations, namespace, activationId, Math.max(0, wait.deadline - Date.now()), wait.signal, wait.expectedMs);
    if (record || wait.signal?.aborted) return record;
    const claim = await deps.activations.claimHolder(namespace, activationId);
    if (!claim) return await deps.activations.get(namespace, activationId);
    if (!(await deps.invokers.claimantIsGone(claim.invoker))) return undefined;
    const abandoned = failedRecord(message, message.acceptedAt, ABANDONED_ERROR);
    if (!(await deps.activations.complete(abandoned, message.action.path, claim.claimToken))) return await deps.activations.get(namespace, activationId);
    await deps.throttles.countOffRecorded(identity).catch(() => undefined);
    return abandoned;
  } catch {
    // The claim is stored, so the id ends in a record whatever failed here: the client gets the id.
    return undefined;
  }
}
