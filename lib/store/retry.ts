/**
 * Runs `step` until it succeeds, backing off from 250 ms, for at most `forMs`; then raises its last
 * error. For writes that must land although the store is away for a moment (an endpoint
 * restarting), where giving up would leave a count wrong until the reconciler finds it.
 */
export async function retryFor<T>(forMs: number, step: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (let delay = 250; ; delay *= 2) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() + delay > giveUpAt) throw error;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
