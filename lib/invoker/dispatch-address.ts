/** Where the instance metadata service answers (EC2); the invoker may reach it, actions may not. */
const IMDS = 'http://169.254.169.254';
const METADATA_TIMEOUT_MS = 5000;

/**
 * The URL controllers reach this invoker's dispatch server at, announced in the registry:
 * `SKYWHISK_DISPATCH_URL` when set; on ECS the task's private address: its own (awsvpc, as on
 * Fargate) from the task metadata endpoint, or the instance's (host network mode, ec2) from the
 * instance metadata service (IMDSv2); else the host it listens on (loopback locally).
 */
export async function resolveDispatchUrl(
  env: NodeJS.ProcessEnv,
  listen: { host: string; port: number },
  fetchImpl: typeof fetch = fetch,
  imds = IMDS,
): Promise<string> {
  if (env.SKYWHISK_DISPATCH_URL) return env.SKYWHISK_DISPATCH_URL;
  const metadata = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!metadata) return `http://${listen.host}:${listen.port}`;
  const address = (await taskAddress(metadata, fetchImpl)) ?? (await instanceAddress(imds, fetchImpl));
  return `http://${address}:${listen.port}`;
}

/** The container's address on an awsvpc network, if it has one. */
async function taskAddress(metadata: string, fetchImpl: typeof fetch): Promise<string | undefined> {
  const response = await fetchImpl(metadata, { signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`ECS container metadata answered ${response.status} at ${metadata}.`);
  const body = (await response.json()) as { Networks?: Array<{ NetworkMode?: string; IPv4Addresses?: string[] }> };
  const network = body.Networks?.find((n) => n.NetworkMode === 'awsvpc');
  return network?.IPv4Addresses?.find((address) => /^\d{1,3}(\.\d{1,3}){3}$/.test(address));
}

/** The instance's private address, with an IMDSv2 session token. */
async function instanceAddress(imds: string, fetchImpl: typeof fetch): Promise<string> {
  const tokenResponse = await fetchImpl(`${imds}/latest/api/token`, {
    method: 'PUT',
    headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
    signal: AbortSignal.timeout(METADATA_TIMEOUT_MS),
  });
  if (!tokenResponse.ok) throw new Error(`The instance metadata service refused a token (${tokenResponse.status}).`);
  const token = await tokenResponse.text();
  const response = await fetchImpl(`${imds}/latest/meta-data/local-ipv4`, { headers: { 'x-aws-ec2-metadata-token': token }, signal: AbortSignal.timeout(METADATA_TIMEOUT_MS) });
  const address = (await response.text()).trim();
  if (!response.ok || !/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) throw new Error(`The instance metadata service gave no private address (${response.status}).`);
  return address;
}
