import type { ActivationRecord } from '../model/activation';
import type { ActivationsRepository } from '../store/activations';

/** The global timer, so that tests' fake timers drive the schedule. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll intervals in ms: tight at first (warm actions finish in a few ms), then backing off. */
const POLL_SCHEDULE_MS = [1, 1, 2, 2, 3, 3, 5, 5, 10, 10, 20, 20, 50];
/** An action expected to run at least this long is read for only once most of its run is over. */
const LONG_RUN_MS = 100;
/** The first read waits at most this long, so a run faster than the last ones is not waited on for long. */
const MAX_FIRST_READ_AFTER_MS = 2000;
/** The steady interval for a long run: a tenth of it, within these. */
const LONG_RUN_INTERVAL_MS = { min: 50, max: 1000 };

/**
 * When to read the store for a record, from the action's recent run time (`expectedMs`, if
 * known): a short or unknown one on the tight schedule; a long one first once most of that
 * has passed (at most 2 s in), then every tenth of it (50 ms to 1 s).
 */
export function pollDelays(expectedMs?: number): { firstReadAfterMs: number; delay: (attempt: number) => number } {
  const expected = expectedMs !== undefined && Number.isFinite(expectedMs) ? expectedMs : 0;
  if (expected < LONG_RUN_MS) return { firstReadAfterMs: 0, delay: (attempt) => POLL_SCHEDULE_MS[Math.min(attempt, POLL_SCHEDULE_MS.length - 1)] };
  const steady = Math.min(LONG_RUN_INTERVAL_MS.max, Math.max(LONG_RUN_INTERVAL_MS.min, expected / 10));
  return { firstReadAfterMs: Math.min(MAX_FIRST_READ_AFTER_MS, Math.floor(expected * 0.8)), delay: () => steady };
}

/**
 * Waits for an activation record to exist, up to `timeoutMs`. It reads the store rather than
 * listening for a reply, so it works from any controller instance (a Lambda cannot be called back).
 * It is the last resort (blocking results normally come back on the dispatch connection), and
 * `expectedMs`, the action's recent run time, spaces its reads out.
 */
export async function waitForRecord(
  activations: Pick<ActivationsRepository, 'get'>,
  namespace: string,
  activationId: string,
  timeoutMs: number,
  /** Ends the wait early (the caller went away). */
  signal?: AbortSignal,
  expectedMs?: number,
): Promise<ActivationRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  const { firstReadAfterMs, delay } = pollDelays(expectedMs);
  if (firstReadAfterMs > 0) await sleep(Math.min(firstReadAfterMs, timeoutMs));
  for (let attempt = 0; ; attempt++) {
    const record = await activations.get(namespace, activationId);
    if (record) return record;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) return undefined;
    await sleep(Math.min(delay(attempt), remaining));
  }
}
