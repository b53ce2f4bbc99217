import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivationRecord } from '../model/activation';
import type { ActivationsRepository } from '../store/activations';

/** Poll intervals in ms: tight at first (warm actions finish in a few ms), then backing off. */
const POLL_SCHEDULE_MS = [1, 1, 2, 2, 3, 3, 5, 5, 10, 10, 20, 20, 50];

/**
 * Waits for an activation record to exist, up to `timeoutMs`. It reads the store rather than
 * listening for a reply, so it works from any controller instance (a Lambda cannot be called back).
 */
export async function waitForRecord(
  activations: ActivationsRepository,
  namespace: string,
  activationId: string,
  timeoutMs: number,
  /** Ends the wait early (the caller went away). */
  signal?: AbortSignal,
): Promise<ActivationRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const record = await activations.get(namespace, activationId);
    if (record) return record;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) return undefined;
    const interval = POLL_SCHEDULE_MS[Math.min(attempt, POLL_SCHEDULE_MS.length - 1)];
    await sleep(Math.min(interval, remaining));
  }
}
