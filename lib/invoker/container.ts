/**
 * What the invoker needs from an action container, whatever runs it (a sandboxed process here,
 * Docker in the next step). A container speaks OpenWhisk's `/init` and `/run` protocol and frames
 * its stdout/stderr with the end-of-activation sentinel.
 */
export interface ContainerSpec {
  /** Exec kind, resolved (`nodejs:20`, or `blackbox`). */
  kind: string;
  /** The image of a blackbox action (any image speaking the action protocol on port 8080). */
  image?: string;
  memoryMb: number;
  /** Environment the container starts with (`__OW_API_HOST`). */
  env: Record<string, string>;
  /** A label for logs and process titles. */
  name: string;
}

/**
 * An action's private scratch space (its /tmp, and the directory its zip unpacks into): 64 MB, or
 * as much as its memory where that is more. Its pages count against the memory limit anyway, and
 * a zip near the 48 MB code limit needs room for itself and what it unpacks to.
 */
export function scratchBytes(memoryMb: number): number {
  return Math.max(64, memoryMb) * 1024 * 1024;
}

export interface RuntimeResponse {
  statusCode: number;
  /** The parsed JSON body, or undefined when the body was not JSON. */
  body: unknown;
  /** The body as received, for error messages. */
  text: string;
}

export interface CollectedLogs {
  lines: string[];
  truncated: boolean;
}

/** The request did not finish within its time limit. */
export class ContainerTimeoutError extends Error {
  override name = 'ContainerTimeoutError';
}

/** The runtime's answer was larger than the invoker reads; the container is not trusted again. */
export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`the runtime's response exceeded ${limitBytes} bytes`);
  }
}

/**
 * This factory cannot run the action at all: its record says why. A whisk error where the platform
 * cannot (a blackbox image in process mode); a developer error where the action's own image is at
 * fault (it cannot be pulled), as OpenWhisk answers a blackbox startup failure.
 */
export class UnrunnableActionError extends Error {
  override name = 'UnrunnableActionError';

  constructor(
    message: string,
    readonly blame: 'whisk' | 'developer' = 'whisk',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The container went away (exited, crashed, or refused the connection) during a request. */
export class ContainerGoneError extends Error {
  override name = 'ContainerGoneError';
}

export interface ActionContainer {
  readonly id: string;
  init(payload: object, timeoutMs: number): Promise<RuntimeResponse>;
  run(payload: object, timeoutMs: number): Promise<RuntimeResponse>;
  /** Log lines written since the last collection, once both streams reached the sentinel (or `waitMs` passed). */
  collectLogs(limitBytes: number, waitMs: number): Promise<CollectedLogs>;
  destroy(): Promise<void>;
  /** Whether the container was killed for exceeding its memory limit (where the factory can tell). */
  oomKilled?(): Promise<boolean>;
  /**
   * Sends a request that takes the runtime's first-request costs (connection, cold code paths)
   * without initialising it, for stem cells. True when the runtime knows the request (a runtime
   * image of another make may not; any answer still warms the connection).
   */
  warmUp?(): Promise<boolean>;
  /** Calls `listener` once when the container exits, whoever caused it. */
  onExit?(listener: () => void): void;
  /** Freezes an idle container and thaws it for reuse (where the factory can). */
  pause?(): Promise<void>;
  resume?(): Promise<void>;
}

/**
 * Makes action containers. Each gets a fresh secret (a file named by `__OW_RUNTIME_TOKEN_FILE`) that
 * every `/init` and `/run` carries, so our runtimes answer their invoker and no other container.
 */
export interface ContainerFactory {
  readonly name: 'process' | 'docker';
  create(spec: ContainerSpec): Promise<ActionContainer>;
}
