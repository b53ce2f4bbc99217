import Docker from 'dockerode';
import { imageForKind } from '../model/runtimes';
import type { ContainerFactory } from './container';
import { DockerContainerFactory } from './docker-factory';
import { bubblewrapWorks, ProcessContainerFactory } from './process-factory';

export type ConfiguredFactory = ContainerFactory & { describe: string; dispose(): void; removeOrphans(): Promise<number> };

/** Whether a Docker engine answers (`DOCKER_HOST` or /var/run/docker.sock) within a second. */
export async function dockerAnswers(docker: Docker): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Chooses the container factory from `SKYWHISK_CONTAINER_FACTORY`: `docker`, `process`, or `auto`
 * (the default: docker when an engine answers, process otherwise). Docker containers use the
 * network in `SKYWHISK_DOCKER_NETWORK` (default `host`, loopback ports); processes run under the
 * sandbox in `SKYWHISK_SANDBOX` (`bwrap`, `none`, or `auto`: bubblewrap where it works).
 */
export async function createContainerFactory(env: NodeJS.ProcessEnv, invokerId: string): Promise<ConfiguredFactory> {
  const setting = env.SKYWHISK_CONTAINER_FACTORY ?? 'auto';
  if (!['auto', 'docker', 'process'].includes(setting)) {
    throw new Error(`Unknown container factory '${setting}' (supported: auto, docker, process).`);
  }
  if (setting !== 'process') {
    const docker = new Docker();
    if (await dockerAnswers(docker)) {
      const network = env.SKYWHISK_DOCKER_NETWORK ?? 'host';
      const factory = new DockerContainerFactory(docker, { invokerId, imageFor: imageForKind, network });
      return Object.assign(factory, { describe: `docker (network ${network})`, dispose: () => undefined });
    }
    if (setting === 'docker') throw new Error('SKYWHISK_CONTAINER_FACTORY=docker but no Docker engine answers.');
  }
  const sandboxSetting = env.SKYWHISK_SANDBOX ?? 'auto';
  const sandbox = sandboxSetting === 'bwrap' || (sandboxSetting === 'auto' && bubblewrapWorks());
  const factory = new ProcessContainerFactory({ sandbox, workRoot: env.SKYWHISK_CONTAINER_DIR });
  return Object.assign(factory, {
    describe: sandbox ? 'process (bubblewrap sandbox)' : 'process (no sandbox)',
    removeOrphans: async () => 0,
  });
}
