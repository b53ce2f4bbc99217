import type { Readable } from 'node:stream';
import type { CollectedLogs } from './container';

export const LOG_SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

/** Most log bytes held for uncollected activations: the largest `limits.logs` (10 MB). */
const MAX_BUFFERED_BYTES = 10 * 1024 * 1024;
/** `new Date().toISOString()` and the space after it: `2026-12-03T14:14:16.524Z `. */
const STAMP_LENGTH = 25;
/** A partial line longer than this is cut into lines, so output without newlines cannot grow unbounded. */
const MAX_LINE_BYTES = 256 * 1024;

type StreamName = 'stdout' | 'stderr';

/**
 * Collects a container's stdout and stderr as timestamped lines, framed per activation by the
 * sentinel each stream prints after every activation (OpenWhisk's log protocol).
 */
export class LogCollector {
  /** Each line with the number of sentinels its stream had printed before it: its activation's frame. */
  private lines: Array<{ frame: number; text: string }> = [];
  private bufferedBytes = 0;
  /** Frames that lost lines to the buffer cap. */
  private readonly overflowed = new Set<number>();
  private readonly pending: Record<StreamName, string> = { stdout: '', stderr: '' };
  private readonly sentinels: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  /** Frames handed out so far; the next collection takes frame `collected`. */
  private collected = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  attach(stream: Readable, name: StreamName): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(name, chunk));
    stream.on('end', () => {
      if (this.pending[name]) this.push(name, this.pending[name]);
      this.pending[name] = '';
      this.closed = true;
      this.wake();
    });
  }

  private onData(name: StreamName, chunk: string): void {
    const text = this.pending[name] + chunk;
    const parts = text.split('\n');
    let rest = parts.pop() ?? '';
    for (const line of parts) this.push(name, line);
    while (rest.length > MAX_LINE_BYTES) {
      this.push(name, rest.slice(0, MAX_LINE_BYTES));
      rest = rest.slice(MAX_LINE_BYTES);
    }
    this.pending[name] = rest;
    this.wake();
  }

  private push(name: StreamName, line: string): void {
    if (line === LOG_SENTINEL) {
      this.sentinels[name]++;
      return;
    }
    const frame = this.sentinels[name];
    // The stamped line's length is known before it is stamped: a flood past the cap costs a
    // comparison per line, no more.
    const length = STAMP_LENGTH + name.length + 2 + line.length;
    if (this.bufferedBytes + length > MAX_BUFFERED_BYTES) {
      this.overflowed.add(frame);
      return;
    }
    const text = `${new Date().toISOString()} ${name}: ${line}`;
    this.bufferedBytes += text.length;
    this.lines.push({ frame, text });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private framed(): boolean {
    return this.closed || (this.sentinels.stdout > this.collected && this.sentinels.stderr > this.collected);
  }

  /** Takes the lines of the activation that just ended; later lines stay for the next one. */
  async collect(limitBytes: number, waitMs: number): Promise<CollectedLogs> {
    const deadline = Date.now() + waitMs;
    while (!this.framed() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const frame = this.collected++;
    const taken = this.lines.filter((l) => l.frame <= frame).map((l) => l.text);
    this.lines = this.lines.filter((l) => l.frame > frame);
    this.bufferedBytes = this.lines.reduce((sum, l) => sum + l.text.length, 0);
    const lost = [...this.overflowed].some((f) => f <= frame);
    for (const f of [...this.overflowed]) if (f <= frame) this.overflowed.delete(f);
    return truncateLogs(taken, limitBytes, lost);
  }
}

/** Keeps lines up to `limitBytes`; past it (or when lines were already lost) ends with OpenWhisk's truncation message. */
export function truncateLogs(lines: string[], limitBytes: number, alreadyTruncated = false): CollectedLogs {
  let used = 0;
  const kept: string[] = [];
  let truncated = alreadyTruncated;
  for (const line of lines) {
    const size = Buffer.byteLength(line);
    if (used + size > limitBytes) {
      truncated = true;
      break;
    }
    used += size;
    kept.push(line);
  }
  if (truncated) kept.push(`Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`);
  return { lines: kept, truncated };
}
