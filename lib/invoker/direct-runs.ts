import { DISPATCH_PATH, type DirectRunner, type RunningActivation } from './dispatch-server';
import { invokerIdOf, type InvokerRegistry } from '../store/invoker-registry';

/** How long a live invoker has to list what it runs before the reconciler gives up on this run. */
const ASK_TIMEOUT_MS = 5000;

/**
 * Every admitted activation running from a direct dispatch on an invoker that still holds its
 * lease: this process's own from memory, the others' from their dispatch servers (with the
 * secret). Such activations are counted in flight although no lease or claim in the store says
 * so. Undefined when one of those invokers could not be asked, or is silent (offline) within its
 * lease: what is in flight is unknown then. Another process of this one's id is gone (one process
 * at a time uses an id), lease or not: a restarted invoker does not wait out its predecessor's.
 */
export async function directRunsOfLiveInvokers(
  registry: Pick<InvokerRegistry, 'holdingLease'>,
  secret: string,
  self: Pick<DirectRunner, 'running' | 'holder'>,
): Promise<RunningActivation[] | undefined> {
  const running = [...self.running()];
  const ownId = invokerIdOf(self.holder);
  for (const invoker of await registry.holdingLease()) {
    if (invoker.id === ownId || !invoker.dispatchUrl) continue;
    // Silent for a while yet within its lease: it may run what it took, and a process that is
    // not heard from is not sent the secret.
    if (invoker.status === 'offline') return undefined;
    try {
      const response = await fetch(new URL(DISPATCH_PATH, invoker.dispatchUrl), {
        headers: { authorization: `Bearer ${secret}` },
        signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
      });
      if (!response.ok) return undefined;
      const answer = (await response.json()) as { running?: RunningActivation[] };
      if (!Array.isArray(answer.running)) return undefined;
      running.push(...answer.running);
    } catch {
      return undefined;
    }
  }
  return running;
}
