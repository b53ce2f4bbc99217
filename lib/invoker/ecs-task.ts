/**
 * The invoker's id: `SKYWHISK_INVOKER_ID` when set; on ECS (`ECS_CONTAINER_METADATA_URI_V4`) the
 * task id, the last segment of the task ARN the metadata endpoint reports, so each task of the
 * fleet registers, labels its containers and claims activations under its own name; else `invoker0`.
 */
export async function resolveInvokerId(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<string> {
  if (env.SKYWHISK_INVOKER_ID) return env.SKYWHISK_INVOKER_ID;
  const metadata = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!metadata) return 'invoker0';
  const response = await fetchImpl(`${metadata}/task`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`ECS task metadata answered ${response.status} at ${metadata}/task.`);
  const body = (await response.json()) as { TaskARN?: unknown };
  const id = typeof body.TaskARN === 'string' ? body.TaskARN.split('/').pop() : undefined;
  if (!id) throw new Error(`ECS task metadata at ${metadata}/task has no TaskARN.`);
  return id;
}
