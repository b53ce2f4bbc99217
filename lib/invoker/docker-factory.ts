import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { ActionContainer, CollectedLogs, ContainerFactory, ContainerSpec, RuntimeResponse } from './container';
import { ContainerGoneError, scratchBytes, UnrunnableActionError } from './container';
import { LogCollector } from './log-collector';
import { OutputPipes } from './output-pipes';
import { newRuntimeToken, RUNTIME_TOKEN_FILE_ENV, RuntimeClient, WARM_UP_TIMEOUT_MS, writeRuntimeToken, type RuntimeAddress, type RuntimePath } from './runtime-client';
import { ActionUsers } from './action-users';
import { pullMissingImages } from './ecr-pull';
import { isNativeSkeleton, NATIVE_RUNTIME_KIND, ownImageForKind } from '../model/runtimes';

const FORWARDER = join(__dirname, 'netns-forwarder.js');

const MIB = 1024 * 1024;
export const INVOKER_LABEL = 'skywhisk.invoker';
/** The platform (the data dir's `platform-id`) a container belongs to, when it is a local one. */
export const PLATFORM_LABEL = 'skywhisk.platform';

export interface DockerFactoryOptions {
  /** Labels every container, so a restarted invoker can find and remove what it left. */
  invokerId: string;
  /** Labels every container too, when set: a start removes only containers of its own platform. */
  platformId?: string;
  /** Image for an exec kind (the runtimes manifest), and whether it is one of our runtimes or speaks OpenWhisk's protocol on 8080. */
  runtimeFor: (kind: string) => { image: string; ownRuntime: boolean };
  /**
   * The network the action's own traffic uses: `host` (local and tests) or a Docker network name
   * (on EC2, an isolated bridge). The invoker never reaches our runtimes over it: see `channelRoot`.
   */
  network: string;
  /**
   * A host directory (root only) holding one directory per container, mounted into it at
   * `/run/skywhisk`: the runtime's unix socket and its token file. Nothing but the invoker can reach
   * the socket, so no port of a runtime is open to other actions. An invoker that itself runs in a
   * container needs this path mounted from the host at the same path. Default: under the system
   * temp directory.
   */
  channelRoot?: string;
}

/** After Docker says a container exited, how long its last output may still take to arrive. */
const OUTPUT_AFTER_EXIT_MS = 500;

/** Where the runtime's channel directory appears inside the container. */
const CHANNEL_MOUNT = '/run/skywhisk';

class DockerContainer implements ActionContainer {
  private readonly logs = new LogCollector();
  private readonly client: RuntimeClient;
  /** The container has exited (Docker's wait, or the end of its output). */
  private exited = false;
  /** Its output has all arrived: log collection need not wait for more. */
  private outputEnded = false;

  constructor(
    readonly id: string,
    private readonly container: Docker.Container,
    address: RuntimeAddress,
    token: string,
    stdout: PassThrough,
    stderr: PassThrough,
    /** Gives back what the container held on the host (its user, channel or forwarder). */
    private readonly release: () => void,
  ) {
    this.client = new RuntimeClient(address, token);
    this.logs.attach(stdout, 'stdout');
    this.logs.attach(stderr, 'stderr');
    stdout.once('end', () => {
      this.outputEnded = true;
      this.markExited();
    });
    // The output stream ends when the container exits, except when it exited before the attach
    // took hold (an attach to a stopped container never ends): Docker's wait sees both. Its answer
    // can come before the last output, so that is still awaited, briefly.
    void container.wait().then(
      () => {
        this.markExited();
        setTimeout(() => (this.outputEnded = true), OUTPUT_AFTER_EXIT_MS).unref();
      },
      () => undefined,
    );
  }

  private markExited(): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners.splice(0)) {
      try {
        listener();
      } catch {
        // A listener's failure is its own: the others still hear of the exit.
      }
    }
  }

  private readonly exitListeners: Array<() => void> = [];

  onExit(listener: () => void): void {
    if (this.exited) queueMicrotask(listener);
    else this.exitListeners.push(listener);
  }

  /** Any answer will do (an image older than `/warmup` says 404): the connection and code paths are warm. */
  async warmUp(): Promise<boolean> {
    return (await this.request('/warmup', {}, WARM_UP_TIMEOUT_MS, true)).statusCode === 200;
  }

  init(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/init', payload, timeoutMs, true);
  }

  run(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/run', payload, timeoutMs, false);
  }

  private request(path: RuntimePath, payload: object, timeoutMs: number, retry: boolean): Promise<RuntimeResponse> {
    if (this.exited) return Promise.reject(new ContainerGoneError('the container has exited'));
    return this.client.post(path, payload, timeoutMs, retry, () => !this.exited);
  }

  collectLogs(limitBytes: number, waitMs: number): Promise<CollectedLogs> {
    return this.logs.collect(limitBytes, this.outputEnded ? 0 : waitMs);
  }

  /** Whether Docker killed the container for exceeding its memory limit. */
  async oomKilled(): Promise<boolean> {
    try {
      // The connection can break before Docker has recorded the exit; let the container finish dying.
      await Promise.race([this.container.wait(), new Promise((r) => setTimeout(r, 2000))]);
      return Boolean((await this.container.inspect()).State.OOMKilled);
    } catch {
      return false;
    }
  }

  async pause(): Promise<void> {
    await this.container.pause();
  }

  async resume(): Promise<void> {
    await this.container.unpause();
  }

  async destroy(): Promise<void> {
    this.client.close();
    await this.container.remove({ force: true }).catch(() => undefined);
    this.release();
  }
}

/**
 * Runs each action container on Docker (the Engine API through dockerode): the runtime image of
 * the action's kind, its memory limit enforced by Docker (swap included), no capabilities, no new
 * privileges, a read-only root with a private /tmp, and pid and file limits. This is what ECS
 * invokers on EC2 use, with the host's Docker socket.
 */
export class DockerContainerFactory implements ContainerFactory {
  readonly name = 'docker' as const;
  private counter = 0;

  private readonly users = new ActionUsers();
  private readonly channelRoot: string;

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerFactoryOptions,
  ) {
    const base = options.channelRoot ?? join(tmpdir(), 'skywhisk-channels');
    mkdirSync(base, { recursive: true, mode: 0o700 });
    this.channelRoot = join(base, options.invokerId.replace(/[^A-Za-z0-9_.-]/g, '_'));
    mkdirSync(this.channelRoot, { recursive: true, mode: 0o700 });
    chmodSync(this.channelRoot, 0o700);
  }

  /**
   * The image, pulled when it is not here (ECR images with the invoker's credentials); runtime
   * images of ours are built or pulled at start. A blackbox image that cannot be pulled is the
   * action's fault; a manifest's runtime image is the platform's. Records say which, in OpenWhisk's words.
   */
  private async ensureImage(image: string, blame: 'whisk' | 'developer'): Promise<void> {
    try {
      await pullMissingImages(this.docker, [image]);
    } catch (error) {
      throw new UnrunnableActionError(`Failed to pull container image '${image}'.`, blame, { cause: error });
    }
  }

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    const hostNetwork = this.options.network === 'host';
    // A blackbox image listens on 8080 as it likes: on the host network it gets no network of its
    // own and is reached through a forwarder in its namespace, or by its address on a named network.
    // OpenWhisk's skeleton image is ours: a native action runs in our nodejs runtime's native mode.
    // A kind whose manifest image is not one of ours (OpenWhisk's runtime images) runs as a blackbox does.
    const native = spec.image !== undefined && isNativeSkeleton(spec.image);
    const runtime = native ? { image: ownImageForKind(NATIVE_RUNTIME_KIND), ownRuntime: true } : spec.image !== undefined ? { image: spec.image, ownRuntime: false } : this.options.runtimeFor(spec.kind);
    const blackbox = !runtime.ownRuntime;
    const isolated = blackbox && hostNetwork;
    const name = `skywhisk-${this.options.invokerId}-${process.pid}-${++this.counter}`;
    // Our runtimes: a user of its own, and a channel directory with its socket and token that only
    // it and the invoker can reach. The token is a file the runtime removes before action code loads.
    const uid = blackbox ? undefined : this.users.allocate();
    const channelDir = blackbox ? undefined : join(this.channelRoot, name);
    let pipes: OutputPipes | undefined;
    const release = () => {
      pipes?.close();
      if (uid !== undefined) this.users.release(uid);
      if (channelDir) rmSync(channelDir, { recursive: true, force: true });
    };
    if (channelDir && uid !== undefined) {
      mkdirSync(channelDir, { mode: 0o700 });
      chownSync(channelDir, uid, uid);
    }
    // A blackbox image gets the header too and may ignore it (it has no network of ours).
    const token = channelDir ? writeRuntimeToken(join(channelDir, 'token'), uid) : newRuntimeToken();
    const env = {
      ...spec.env,
      ...(blackbox ? {} : { __OW_LISTEN: `${CHANNEL_MOUNT}/runtime.sock`, [RUNTIME_TOKEN_FILE_ENV]: `${CHANNEL_MOUNT}/token` }),
      ...(native ? { __OW_NATIVE: 'true' } : {}),
    };
    const { image } = runtime;
    // Our runtime images send their output to these pipes when they find them (see OutputPipes);
    // an older image of ours, or a blackbox one, writes to Docker's attach stream as before. They
    // are made while Docker creates the container (`mkfifo` is a process): only its start needs them.
    const opening = channelDir ? OutputPipes.open(channelDir) : undefined;
    // Awaited below; handled here so that a failure while the container is created is not unhandled.
    opening?.catch(() => undefined);
    let container: Docker.Container;
    try {
      if (blackbox) await this.ensureImage(image, spec.image !== undefined ? 'developer' : 'whisk');
      container = await this.docker.createContainer({
        Image: image,
        name,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: { ...this.ownLabels(), 'skywhisk.kind': spec.kind },
        ...(uid !== undefined ? { User: `${uid}:${uid}` } : {}),
        HostConfig: {
          NetworkMode: isolated ? 'none' : this.options.network,
          Memory: spec.memoryMb * MIB,
          MemorySwap: spec.memoryMb * MIB,
          PidsLimit: 1024,
          Ulimits: [
            { Name: 'nofile', Soft: 1024, Hard: 1024 },
            { Name: 'fsize', Soft: 64 * MIB, Hard: 64 * MIB },
          ],
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          // Our runtimes write nothing outside /tmp. Other images (OpenWhisk's, users' blackbox ones)
          // may write their action into their own directories, as OpenWhisk lets them: each file
          // is still capped by the fsize limit, and the layer goes with the container.
          ReadonlyRootfs: !blackbox,
          Tmpfs: { '/tmp': `rw,exec,size=${scratchBytes(spec.memoryMb)}` },
          // No engine-side log: output is read from the pipes or the attach stream only (and capped
          // in the invoker), so an action printing without end cannot fill the host's disk.
          LogConfig: { Type: 'none', Config: {} },
          ...(channelDir ? { Binds: [`${channelDir}:${CHANNEL_MOUNT}`] } : {}),
        },
      });
    } catch (error) {
      await opening?.then((opened) => opened.close(), () => undefined);
      release();
      throw error;
    }
    try {
      pipes = await opening;
      const attaching = container.attach({ stream: true, stdout: true, stderr: true });
      // A blackbox image may print as it starts: attach first so no line is missed. Our runtimes
      // print nothing before /init, so attach and start go together (a round trip less to wait).
      const [stream] = await Promise.all([attaching, blackbox ? attaching.then(() => container.start()) : container.start()]);
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      pipes?.forward(stdout, stderr);
      stream.on('end', () => {
        pipes?.drainInto(stdout, stderr);
        stdout.end();
        stderr.end();
      });
      if (channelDir) return new DockerContainer(container.id, container, { socketPath: join(channelDir, 'runtime.sock') }, token, stdout, stderr, release);
      if (isolated) {
        const { State } = await container.inspect();
        const dir = mkdtempSync(join(tmpdir(), 'skywhisk-forward-'));
        const socketPath = join(dir, 'runtime.sock');
        const forwarder = spawn('setpriv', ['--pdeathsig=KILL', '--', 'nsenter', '-t', String(State.Pid), '-n', process.execPath, FORWARDER, socketPath, '8080'], {
          stdio: 'ignore',
        });
        forwarder.on('error', () => undefined);
        const stopForwarder = () => {
          forwarder.kill('SIGKILL');
          rmSync(dir, { recursive: true, force: true });
        };
        return new DockerContainer(container.id, container, { socketPath }, token, stdout, stderr, stopForwarder);
      }
      const info = await container.inspect();
      const address = info.NetworkSettings.Networks[this.options.network]?.IPAddress;
      if (!address) throw new Error(`container ${container.id} has no address on network '${this.options.network}'`);
      return new DockerContainer(container.id, container, { host: address, port: 8080 }, token, stdout, stderr, release);
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      release();
      throw error;
    }
  }

  private ownLabels(): Record<string, string> {
    return { [INVOKER_LABEL]: this.options.invokerId, ...(this.options.platformId ? { [PLATFORM_LABEL]: this.options.platformId } : {}) };
  }

  /** Removes every container labelled with this invoker's id and platform (left by a crashed predecessor). */
  async removeOrphans(): Promise<number> {
    const label = Object.entries(this.ownLabels()).map(([key, value]) => `${key}=${value}`);
    const leftovers = await this.docker.listContainers({ all: true, filters: { label } });
    await Promise.all(leftovers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    for (const name of leftovers.flatMap((c) => c.Names)) rmSync(join(this.channelRoot, name.replace(/^\//, '')), { recursive: true, force: true });
    return leftovers.length;
  }
}
