/**
 * Runs `step` until it succeeds, backing off from 250 ms, for at most `forMs`; then raises its last
 * error. For writes that must land although the store is away for a moment (an endpoint
 * restarting), where giving up would leave a count wrong until the reconciler finds it.
 */
export async function retryFor<T>(forMs: number, step: () => Promise<T>, options: { unref?: boolean } = {}): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (let delay = 250; ; delay *= 2) {
    try {
      return await step();
    } catch (error) {
      if (Date.now() + delay > giveUpAt) throw error;
      // `unref`: background work that must not keep a process alive that is done otherwise.
      await new Promise((r) => (options.unref ? setTimeout(r, delay).unref() : setTimeout(r, delay)));
    }
  }
}

/**
 * Sends a batch (BatchWriteItem, BatchGetItem) and sends again what the store left unprocessed,
 * backing off from 100 ms, at most 5 times; then raises an error naming `what` was left.
 * `send` answers the unprocessed part of what it was given.
 */
export async function sendUntilProcessed<T>(items: T[], what: string, send: (batch: T[]) => Promise<T[]>): Promise<void> {
  let left = items;
  for (let attempt = 0; left.length && attempt < 5; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    left = await send(left);
  }
  if (left.length) throw new Error(`${left.length} ${what} were left unprocessed`);
}
