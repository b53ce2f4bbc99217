import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ReadyMessage } from './child';

const LIB_DIR = resolve(__dirname, '..');

/** A platform process started by the supervisor, with its output in `<logDir>/<name>.log`. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  ready: ReadyMessage;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * Starts a TypeScript entry under lib/ with tsx, in its own process group (so a terminal's Ctrl-C
 * reaches only the supervisor, which then stops children in order), and waits for it to report ready.
 */
export async function startProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  logDir: string,
  readyTimeoutMs = 30_000,
): Promise<ManagedProcess> {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  // `SKYWHISK_CPU_PROF_DIR`: each platform process writes a CPU profile there when it exits.
  const profile = env.SKYWHISK_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.SKYWHISK_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', join(LIB_DIR, entry)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  // Output can still be on its way at 'exit' (Node closes the pipes after): the log ends once both
  // pipes have, or a second later if something the process left behind holds them open.
  const drained = Promise.all([child.stdout!, child.stderr!].map((stream) => new Promise((ended) => stream.once('close', ended))));
  log.on('error', () => undefined);
  const exited = new Promise<number | string>((done) => {
    child.once('exit', (code, signal) => {
      let timer: NodeJS.Timeout | undefined;
      void Promise.race([drained, new Promise((r) => (timer = setTimeout(r, 1000)))]).then(() => {
        clearTimeout(timer);
        log.end();
        done(code ?? signal ?? 'unknown');
      });
    });
  });
  const ready = await new Promise<ReadyMessage>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      // Not left running: a second start of it (the supervisor's next attempt) must not meet this one.
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${readyTimeoutMs} ms (see ${join(logDir, `${name}.log`)})`));
    }, readyTimeoutMs);
    child.on('message', (message: ReadyMessage) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolveReady(message);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready (see ${join(logDir, `${name}.log`)})`));
    });
  });
  return { name, child, ready, exited };
}

/** Asks a process to stop (SIGTERM) and waits; SIGKILL after `graceMs`. */
export async function stopProcess(proc: ManagedProcess, graceMs: number): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}
