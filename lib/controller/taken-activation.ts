import { waitForRecord } from '../bus/result-waiter';
import { ABANDONED_ERROR, failedRecord } from '../invoker/failed-records';
import type { ActivationMessage, ActivationRecord } from '../model/activation';
import { claimedActivationOf } from '../store/activations';
import { retryFor } from '../store/retry';
import type { Identity } from '../store/subjects';
import type { ControllerDeps } from './context';

/** How long the claim written for an invoker is retried while the store is away for a moment. */
const CLAIM_RETRY_MS = 8000;

/**
 * The record of a directly dispatched activation whose answer did not come back on the connection
 * (it broke, or the deadline passed): the invoker process `holder` has it, or may have, and it
 * must run nowhere else. An invoker runs a dispatch without claiming it, so a claim in the
 * holder's name goes in the store first (unless a record or a claim is there already): the
 * holder replaces it with the record when it finishes; if the holder never got the activation,
 * it records the claim as abandoned; if it is gone, whoever sweeps its claims does. The record is
 * waited for until `deadline`; if none came and the holder is gone by then, this process records
 * it as abandoned itself (the conditional write lets only one record land). Undefined: still
 * running on a live holder, whose record will follow.
 */
export async function recordOfTaken(
  deps: Pick<ControllerDeps, 'activations' | 'invokers' | 'throttles'>,
  identity: Identity,
  message: ActivationMessage,
  holder: string,
  wait: { deadline: number; signal?: AbortSignal; expectedMs?: number },
): Promise<ActivationRecord | undefined> {
  const { deadline, signal } = wait;
  const { namespace, activationId } = message;
  await retryFor(CLAIM_RETRY_MS, () => deps.activations.claimOnBehalf(namespace, activationId, holder, claimedActivationOf(message, true)));
  const record = await waitForRecord(deps.activations, namespace, activationId, Math.max(0, deadline - Date.now()), signal, wait.expectedMs);
  if (record || signal?.aborted || !(await deps.invokers.claimantIsGone(holder))) return record;
  const abandoned = failedRecord(message, message.acceptedAt, ABANDONED_ERROR);
  if (!(await deps.activations.complete(abandoned, message.action.path))) return deps.activations.get(namespace, activationId);
  await deps.throttles.countOffRecorded(identity).catch(() => undefined);
  return abandoned;
}
