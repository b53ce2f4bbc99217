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

/** Runs `stop` once on SIGTERM or SIGINT (or the supervisor's IPC channel closing), then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop()
      .catch((error: unknown) => console.error(error))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  process.on('disconnect', handler);
}
