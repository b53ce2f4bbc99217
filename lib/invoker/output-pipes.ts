import { execFile } from 'node:child_process';
import { chownSync, constants, openSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The pipes' names in a container's channel directory (and so under its mount there). */
export const OUTPUT_PIPES = ['stdout', 'stderr'] as const;

/**
 * A runtime's stdout and stderr as two named pipes in its container's channel directory, read by
 * the invoker itself. Through Docker's attach stream, every line, and the two sentinels each
 * activation prints, went from the runtime through containerd's shim and dockerd to the invoker:
 * measured at 32 clients, about 0.45 ms of their CPU per warm no-op activation.
 */
export class OutputPipes {
  private readonly readers: Socket[];
  private readonly fds: number[];
  private closed = false;

  private constructor(fds: number[]) {
    this.fds = fds;
    this.readers = fds.map((fd) => new Socket({ fd, readable: true, writable: false }));
    for (const reader of this.readers) reader.on('error', () => undefined);
  }

  /**
   * Makes the pipes (mode 0600, owned by the container's user) and opens them. Each is opened
   * for reading and writing: opening needs no writer yet, and the pipe never reads as ended, so
   * its end is told by the container's exit (see `drainInto`), after everything it wrote.
   */
  static async open(dir: string, uid: number | undefined): Promise<OutputPipes> {
    const paths = OUTPUT_PIPES.map((name) => join(dir, name));
    await run('mkfifo', ['-m', '600', ...paths]);
    if (uid !== undefined) for (const path of paths) chownSync(path, uid, uid);
    return new OutputPipes(paths.map((path) => openSync(path, constants.O_RDWR | constants.O_NONBLOCK)));
  }

  /** Sends what each pipe carries to its stream (stdout, stderr), as it arrives. */
  forward(stdout: Writable, stderr: Writable): void {
    [stdout, stderr].forEach((target, i) => this.readers[i].on('data', (chunk: Buffer) => target.write(chunk)));
  }

  /**
   * Once the container has exited: whatever is still in the pipes, read at once (nothing writes
   * any more), to the same streams, so their end comes after the last line.
   */
  drainInto(stdout: Writable, stderr: Writable): void {
    if (this.closed) return;
    const buffer = Buffer.alloc(64 * 1024);
    [stdout, stderr].forEach((target, i) => {
      this.readers[i].pause();
      for (;;) {
        let read: number;
        try {
          read = readSync(this.fds[i], buffer, 0, buffer.length, null);
        } catch {
          break; // EAGAIN: empty
        }
        if (read === 0) break;
        target.write(Buffer.from(buffer.subarray(0, read)));
      }
    });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const reader of this.readers) reader.destroy();
  }
}

/**
 * A container's command wrapped so that the runtime's stdout and stderr are the pipes mounted at
 * `mount`: a shell opens them and becomes the image's own command.
 */
export function commandWithOutputPipes(mount: string, imageCommand: string[]): { Entrypoint: string[]; Cmd: string[] } {
  return {
    Entrypoint: ['/bin/sh', '-c', `exec "$@" >${mount}/${OUTPUT_PIPES[0]} 2>${mount}/${OUTPUT_PIPES[1]}`, 'skywhisk-runtime'],
    Cmd: imageCommand,
  };
}
