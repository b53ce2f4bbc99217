import { spawnSync } from 'node:child_process';

/**
 * Whether Docker tests run here: yes when an engine answers. On CI they must run, so there a
 * missing engine is an error, never a silent skip.
 */
export function dockerTestsEnabled(): boolean {
  const probe = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000, encoding: 'utf8' });
  const answers = probe.status === 0;
  if (!answers && process.env.CI) throw new Error(`Docker tests must run on CI, but no Docker engine answers: ${probe.stderr || probe.error}`);
  return answers;
}

/** Containers the invoker labelled with its id. */
export function containersOf(invokerId: string): string[] {
  const out = spawnSync('docker', ['ps', '-aq', '--filter', `label=skywhisk.invoker=${invokerId}`], { encoding: 'utf8' });
  return out.stdout.split('\n').filter(Boolean);
}

/** Whether Docker has a container paused. */
export function isPaused(containerId: string): boolean {
  const out = spawnSync('docker', ['inspect', '--format', '{{.State.Paused}}', containerId], { encoding: 'utf8' });
  return out.stdout.trim() === 'true';
}
