/**
 * Coalesces concurrent requests for one key into batches: a request on an idle key is sent at
 * once (no waiting, so a lone caller pays nothing), and requests that arrive while a batch for
 * their key is on its way go together in the next one. Under load one store call serves many
 * activations; idle, it is one call each, as before.
 */
export class Coalescer<Item, Result> {
  private readonly waiting = new Map<string, Array<{ item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }>>();
  private readonly sending = new Set<string>();

  /** `send` handles one batch and returns one result per item, in order. */
  constructor(private readonly send: (key: string, items: Item[]) => Promise<Result[]>) {}

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
      for (let batch = this.waiting.get(key); batch?.length; batch = this.waiting.get(key)) {
        this.waiting.delete(key);
        try {
          const results = await this.send(
            key,
            batch.map((entry) => entry.item),
          );
          batch.forEach((entry, i) => entry.resolve(results[i]));
        } catch (error) {
          batch.forEach((entry) => entry.reject(error));
        }
      }
    } finally {
      this.sending.delete(key);
    }
  }
}
