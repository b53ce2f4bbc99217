/** How a process started by the supervisor reports readiness and handles stop signals. */
export interface ReadyMessage {
  type: 'ready';
  port?: number;
  /** A unix socket the process serves (the invoker's status). */
  socketPath?: string;
}

export function announceReady(info: Omit<ReadyMessage, 'type'> = {}): void {
  const message: ReadyMessage = { type: 'ready', ...info };
  if (process.send) process.send(message);
}

/** Why a process stops: asked to (a signal from the supervisor), or orphaned (its supervisor is gone). */
export type StopReason = 'asked' | 'orphaned';

/** An orphaned process exits after this long, whatever its stop is still waiting for. */
export const ORPHAN_EXIT_MS = 30_000;

/**
 * Runs `stop` once on SIGTERM or SIGINT, or when the supervisor's IPC channel closes (the
 * supervisor died), then exits. An orphan does not wait for its stop beyond `ORPHAN_EXIT_MS`:
 * nobody would ever SIGKILL it.
 */
export function onShutdown(stop: (reason: StopReason) => Promise<void>): void {
  let stopping = false;
  const handler = (reason: StopReason) => {
    if (reason === 'orphaned') setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
    if (stopping) return;
    stopping = true;
    stop(reason)
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => handler('asked'));
  process.on('SIGINT', () => handler('asked'));
  process.on('disconnect', () => handler('orphaned'));
}
