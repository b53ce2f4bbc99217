import type { ActionContainer, ContainerFactory, ContainerSpec, RuntimeResponse } from '../../lib/invoker/container';

const OK: RuntimeResponse = { statusCode: 200, body: {}, text: '{}' };

/** A container that does nothing but can fail a pause, a resume or its warm-up when told, and die. */
export class FakeContainer implements ActionContainer {
  destroyed = false;
  paused = false;
  exited = false;
  warmUps = 0;
  failPause = false;
  failResume = false;
  failWarmUp = false;
  private readonly exitListeners: Array<() => void> = [];

  constructor(
    readonly id: string,
    readonly spec: ContainerSpec,
    /** How long each operation takes (ms on the fake clock; 0 settles at once). */
    private readonly delay: () => number = () => 0,
  ) {}

  private async takeTime(): Promise<void> {
    const ms = this.delay();
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  }

  init = async (): Promise<RuntimeResponse> => OK;
  run = async (): Promise<RuntimeResponse> => OK;
  collectLogs = async () => ({ lines: [], truncated: false });

  async warmUp(): Promise<boolean> {
    await this.takeTime();
    this.warmUps++;
    if (this.failWarmUp) throw new Error('warm-up failed');
    return true;
  }

  async pause(): Promise<void> {
    await this.takeTime();
    if (this.failPause || this.exited) throw new Error('pause failed');
    this.paused = true;
  }

  async resume(): Promise<void> {
    await this.takeTime();
    if (this.failResume || this.exited) throw new Error('resume failed');
    this.paused = false;
  }

  onExit(listener: () => void): void {
    if (this.exited) queueMicrotask(listener);
    else this.exitListeners.push(listener);
  }

  /** The process inside exits on its own. */
  die(): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners.splice(0)) listener();
  }

  async destroy(): Promise<void> {
    await this.takeTime();
    this.destroyed = true;
    this.die();
  }
}

/** Makes fake containers at once (or fails to, when told); `configure` sets up each new one. */
export class FakeFactory implements ContainerFactory {
  readonly name = 'process' as const;
  readonly made: FakeContainer[] = [];
  failCreates = 0;
  configure: (container: FakeContainer) => void = () => undefined;
  /** How long creates and container operations take; at once unless set. */
  delay: () => number = () => 0;

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    const ms = this.delay();
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.failCreates > 0) {
      this.failCreates--;
      throw new Error('docker create failed');
    }
    const container = new FakeContainer(`c${this.made.length + 1}`, spec, () => this.delay());
    this.configure(container);
    this.made.push(container);
    return container;
  }

  get destroyed(): string[] {
    return this.made.filter((c) => c.destroyed).map((c) => c.id);
  }

  live(): FakeContainer[] {
    return this.made.filter((c) => !c.destroyed);
  }
}

export const nodeSpec = (memoryMb: number): ContainerSpec => ({ kind: 'nodejs:20', memoryMb, env: {}, name: 'test' });

/** Jest's fake timers for pool tests: time is faked, the pool's next-turn work (setImmediate) is not. */
export const POOL_FAKE_TIMERS: { doNotFake: Array<'queueMicrotask' | 'nextTick' | 'setImmediate'> } = { doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] };

/**
 * Lets every promise chain that is ready run (pool callbacks are a few awaits deep), and what the
 * pool deferred to the next turn (stem-cell refills).
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 10; j++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
