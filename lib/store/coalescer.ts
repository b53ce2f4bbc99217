/**
 * Coalesces concurrent requests for one key into batches: a request on an idle key is sent at
 * once (no waiting, so a lone caller pays nothing), and requests that arrive while a batch for
 * their key is on its way go together in the next one. Under load one store call serves many
 * activations; idle, it is one call each, as before.
 */
export class Coalescer<Item, Result> {
  private readonly waiting = new Map<string, Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }>>();
  private readonly sending = new Set<string>();

  /**
   * `send` handles one batch (at most `maxBatch` items: more waiting go in several batches at
   * once) and returns one result per item, in order, or an Error for an item that failed alone.
   */
  constructor(
    private readonly send: (key: string, items: Item[]) => Promise<Array<Result | Error>>,
    private readonly maxBatch = Infinity,
  ) {}

  submit(key: string, item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      const queue = this.waiting.get(key) ?? [];
      queue.push({ item, resolve, reject });
      this.waiting.set(key, queue);
      if (!this.sending.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.sending.add(key);
    try {
      for (let waiting = this.waiting.get(key); waiting?.length; waiting = this.waiting.get(key)) {
        this.waiting.delete(key);
        const batches: Array<typeof waiting> = [];
        for (let i = 0; i < waiting.length; i += Math.min(this.maxBatch, waiting.length)) batches.push(waiting.slice(i, i + this.maxBatch));
        await Promise.all(
          batches.map(async (batch) => {
            try {
              const results = await this.send(
                key,
                batch.map((entry) => entry.item),
              );
              batch.forEach((entry, i) => {
                const result = results[i];
                if (result instanceof Error) entry.reject(result);
                else entry.resolve(result);
              });
            } catch (error) {
              batch.forEach((entry) => entry.reject(error));
            }
          }),
        );
      }
    } finally {
      this.sending.delete(key);
    }
  }
}

/** What was thrown, as an Error (for a batch's one result that failed alone). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
