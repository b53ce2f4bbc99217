import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { App, Stack } from 'aws-cdk-lib';

const outdirs: string[] = [];

/** Removes what synthesizeBundles wrote; call from afterAll. */
export function removeBundles(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Synthesizes a stack WITH bundling (esbuild, offline, as `cdk synth` runs it) and returns the asset
 * folders that hold a bundled `index.js`: what Lambda would run.
 */
export function synthesizeBundles(define: (stack: Stack) => void): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'skywhisk-synth-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  define(new Stack(app, 'Bundled', { env: { account: '123456789012', region: 'us-east-1' } }));
  const assembly = app.synth();
  return readdirSync(assembly.directory)
    .filter((name) => name.startsWith('asset.'))
    .map((name) => join(assembly.directory, name))
    .filter((dir) => existsSync(join(dir, 'index.js')));
}

const ANSWER = '@@answer ';

/** A bundled handler running in its own Node process; `invoke` sends one event and waits for its answer. */
export class BundledHandler {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  stderr = '';

  constructor(bundleDir: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [resolve(__dirname, 'lambda-runner.cjs'), join(bundleDir, 'index.js')], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (!line.startsWith(ANSWER)) return; // a log line of the handler
      const answer = JSON.parse(line.slice(ANSWER.length)) as { id: number; result?: unknown; error?: string };
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error !== undefined) waiter?.reject(new Error(answer.error));
      else waiter?.resolve(answer.result);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`bundled handler exited ${code}: ${this.stderr.slice(-2000)}`));
      this.pending.clear();
    });
  }

  invoke<T>(event: unknown): Promise<T> {
    if (this.child.exitCode !== null) return Promise.reject(new Error(`bundled handler exited ${this.child.exitCode}: ${this.stderr.slice(-2000)}`));
    const id = this.nextId++;
    return new Promise<T>((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise as (value: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, event }) + '\n');
    });
  }

  stop(): void {
    this.child.kill();
  }
}
