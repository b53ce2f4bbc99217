import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { ActionContainer, CollectedLogs, ContainerFactory, ContainerSpec, RuntimeResponse } from './container';
import { ContainerGoneError } from './container';
import { LogCollector } from './log-collector';
import { newRuntimeToken, RUNTIME_TOKEN_ENV, RuntimeClient, type RuntimeAddress } from './runtime-client';

const FORWARDER = join(__dirname, 'netns-forwarder.js');

const MIB = 1024 * 1024;
export const INVOKER_LABEL = 'skywhisk.invoker';

export interface DockerFactoryOptions {
  /** Labels every container, so a restarted invoker can find and remove what it left. */
  invokerId: string;
  /** Image for an exec kind (the runtimes manifest). */
  imageFor: (kind: string) => string;
  /**
   * `host`: the runtime listens on a free 127.0.0.1 port of the host network (local and tests).
   * Anything else is a Docker network name; the runtime is reached on its address there, port 8080.
   */
  network: string;
}

/** A free loopback TCP port (the runtime binds it on the host network). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

class DockerContainer implements ActionContainer {
  private readonly logs = new LogCollector();
  private readonly client: RuntimeClient;
  private exited = false;

  constructor(
    readonly id: string,
    private readonly container: Docker.Container,
    address: RuntimeAddress,
    token: string,
    stdout: PassThrough,
    stderr: PassThrough,
    private readonly forwarder?: { process: ChildProcess; dir: string },
  ) {
    this.client = new RuntimeClient(address, token);
    this.logs.attach(stdout, 'stdout');
    this.logs.attach(stderr, 'stderr');
    stdout.once('end', () => (this.exited = true));
  }

  init(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/init', payload, timeoutMs, true);
  }

  run(payload: object, timeoutMs: number): Promise<RuntimeResponse> {
    return this.request('/run', payload, timeoutMs, false);
  }

  private request(path: '/init' | '/run', payload: object, timeoutMs: number, retry: boolean): Promise<RuntimeResponse> {
    if (this.exited) return Promise.reject(new ContainerGoneError('the container has exited'));
    return this.client.post(path, payload, timeoutMs, retry, () => !this.exited);
  }

  collectLogs(limitBytes: number, waitMs: number): Promise<CollectedLogs> {
    return this.logs.collect(limitBytes, this.exited ? 0 : waitMs);
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
    this.forwarder?.process.kill('SIGKILL');
    if (this.forwarder) rmSync(this.forwarder.dir, { recursive: true, force: true });
    await this.container.remove({ force: true }).catch(() => undefined);
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

  constructor(
    private readonly docker: Docker,
    private readonly options: DockerFactoryOptions,
  ) {}

  /** The image, pulled when it is not here (a blackbox image; runtime images are built locally). */
  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch {
      // not here: pull it
    }
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) =>
      this.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(new Error(`Failed to pull container image '${image}'.`)) : resolve())),
    );
  }

  async create(spec: ContainerSpec): Promise<ActionContainer> {
    const hostNetwork = this.options.network === 'host';
    // A blackbox image listens on 8080 as it likes: on the host network it gets no network of its
    // own and is reached through a forwarder in its namespace; our runtimes take a loopback port.
    const blackbox = spec.image !== undefined;
    const isolated = blackbox && hostNetwork;
    const port = hostNetwork && !blackbox ? await freePort() : 8080;
    // Every container on the host network (or a shared one) can reach this port: our runtimes answer
    // only requests with this container's token. A blackbox image gets it too and may ignore it
    // (it has no network of its own on the host network).
    const token = newRuntimeToken();
    const env = {
      ...spec.env,
      ...(blackbox ? {} : { __OW_LISTEN: String(port) }),
      ...(hostNetwork && !blackbox ? { __OW_LISTEN_HOST: '127.0.0.1' } : {}),
      [RUNTIME_TOKEN_ENV]: token,
    };
    const image = spec.image ?? this.options.imageFor(spec.kind);
    if (blackbox) await this.ensureImage(image);
    const container = await this.docker.createContainer({
      Image: image,
      name: `skywhisk-${this.options.invokerId}-${process.pid}-${++this.counter}`,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { [INVOKER_LABEL]: this.options.invokerId, 'skywhisk.kind': spec.kind },
      HostConfig: {
        NetworkMode: isolated ? 'none' : this.options.network,
        Memory: spec.memoryMb * MIB,
        MemorySwap: spec.memoryMb * MIB,
        PidsLimit: 1024,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        ReadonlyRootfs: true,
        Tmpfs: { '/tmp': 'rw,exec,size=64m' },
      },
    });
    try {
      // Attach before start so no line of output is missed.
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      this.docker.modem.demuxStream(stream, stdout, stderr);
      stream.on('end', () => {
        stdout.end();
        stderr.end();
      });
      await container.start();
      if (isolated) {
        const { State } = await container.inspect();
        const dir = mkdtempSync(join(tmpdir(), 'skywhisk-forward-'));
        const socketPath = join(dir, 'runtime.sock');
        const forwarder = spawn('setpriv', ['--pdeathsig=KILL', '--', 'nsenter', '-t', String(State.Pid), '-n', process.execPath, FORWARDER, socketPath, String(port)], {
          stdio: 'ignore',
        });
        forwarder.on('error', () => undefined);
        return new DockerContainer(container.id, container, { socketPath }, token, stdout, stderr, { process: forwarder, dir });
      }
      let host = '127.0.0.1';
      if (!hostNetwork) {
        const info = await container.inspect();
        const address = info.NetworkSettings.Networks[this.options.network]?.IPAddress;
        if (!address) throw new Error(`container ${container.id} has no address on network '${this.options.network}'`);
        host = address;
      }
      return new DockerContainer(container.id, container, { host, port }, token, stdout, stderr);
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw error;
    }
  }

  /** Removes every container labelled with this invoker's id (left by a crashed predecessor). */
  async removeOrphans(): Promise<number> {
    const leftovers = await this.docker.listContainers({ all: true, filters: { label: [`${INVOKER_LABEL}=${this.options.invokerId}`] } });
    await Promise.all(leftovers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    return leftovers.length;
  }
}
