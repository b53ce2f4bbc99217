import type { ContainerFactory } from './container';
import { bubblewrapWorks, ProcessContainerFactory } from './process-factory';

export type ConfiguredFactory = ContainerFactory & { describe: string; dispose(): void };

/**
 * Chooses the container factory from `SKYWHISK_CONTAINER_FACTORY` (only `process` exists so far)
 * and, for processes, the sandbox from `SKYWHISK_SANDBOX` (`bwrap`, `none`, or `auto`: bubblewrap
 * where it works).
 */
export function createContainerFactory(env: NodeJS.ProcessEnv): ConfiguredFactory {
  const kind = env.SKYWHISK_CONTAINER_FACTORY ?? 'process';
  if (kind !== 'process') throw new Error(`Unknown container factory '${kind}' (supported: process).`);
  const sandboxSetting = env.SKYWHISK_SANDBOX ?? 'auto';
  const sandbox = sandboxSetting === 'bwrap' || (sandboxSetting === 'auto' && bubblewrapWorks());
  const factory = new ProcessContainerFactory({ sandbox, workRoot: env.SKYWHISK_CONTAINER_DIR });
  return Object.assign(factory, { describe: sandbox ? 'process (bubblewrap sandbox)' : 'process (no sandbox)' });
}
