import Docker from 'dockerode';
import { runtimeForKind } from '../model/runtimes';
import type { ContainerFactory } from './container';
import { withDeadline } from './deadline';
import { DockerContainerFactory } from './docker-factory';
import { bubblewrapWorks, describeIsolation, isolatesTenants, ProcessContainerFactory } from './process-factory';

/** `singleTenant`: actions here are not isolated from each other (the operator said so). */
export type ConfiguredFactory = ContainerFactory & { describe: string; singleTenant: boolean; dispose(): void; removeOrphans(): Promise<number> };

/** Whether a Docker engine answers (`DOCKER_HOST` or /var/run/docker.sock) within a second. */
export async function dockerAnswers(docker: Docker): Promise<boolean> {
  try {
    await withDeadline(docker.ping(), 1000, 'no answer from Docker in a second');
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether an invoker started with `env` runs actions as processes: `SKYWHISK_CONTAINER_FACTORY`
 * says `process`, or says `auto` (the default) and no Docker engine answers.
 */
export async function choosesProcesses(env: NodeJS.ProcessEnv): Promise<boolean> {
  const setting = env.SKYWHISK_CONTAINER_FACTORY ?? 'auto';
  if (setting === 'process') return true;
  return setting === 'auto' && !(await dockerAnswers(new Docker()));
}

/**
 * Chooses the container factory from `SKYWHISK_CONTAINER_FACTORY`: `docker`, `process`, or `auto`
 * (the default: docker when an engine answers, process otherwise). Docker containers use the
 * network in `SKYWHISK_DOCKER_NETWORK` (default `host`, loopback ports); processes run under the
 * sandbox in `SKYWHISK_SANDBOX` (`bwrap`, `none`, or `auto`: bubblewrap where it works). Processes
 * that could read each other (no bubblewrap and not root) are refused unless the operator says
 * the invoker serves one tenant (`SKYWHISK_SINGLE_TENANT=true`).
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
      const factory = new DockerContainerFactory(docker, {
        invokerId,
        platformId: env.SKYWHISK_PLATFORM_ID || undefined,
        runtimeFor: runtimeForKind,
        network,
        channelRoot: env.SKYWHISK_RUNTIME_CHANNEL_DIR,
      });
      return Object.assign(factory, { describe: `docker (network ${network})`, singleTenant: false, dispose: () => undefined });
    }
    if (setting === 'docker') throw new Error('SKYWHISK_CONTAINER_FACTORY=docker but no Docker engine answers.');
  }
  const sandboxSetting = env.SKYWHISK_SANDBOX ?? 'auto';
  if (!['auto', 'bwrap', 'none'].includes(sandboxSetting)) throw new Error(`Unknown sandbox '${sandboxSetting}' (supported: auto, bwrap, none).`);
  const sandbox = sandboxSetting === 'bwrap' || (sandboxSetting === 'auto' && bubblewrapWorks());
  const factory = new ProcessContainerFactory({ sandbox, workRoot: env.SKYWHISK_CONTAINER_DIR, group: invokerId.replace(/[^A-Za-z0-9_.-]/g, '_') });
  const singleTenant = !isolatesTenants(factory.isolation);
  if (singleTenant && env.SKYWHISK_SINGLE_TENANT !== 'true') {
    factory.dispose();
    throw new Error(
      'Refusing to run actions: without bubblewrap and not running as root, the process factory cannot keep one tenant\'s actions ' +
        'from reading another\'s. Install bubblewrap, run the invoker as root, or set SKYWHISK_SINGLE_TENANT=true if every action here belongs to one tenant.',
    );
  }
  return Object.assign(factory, { describe: describeIsolation(factory.isolation), singleTenant, removeOrphans: async () => 0 });
}
