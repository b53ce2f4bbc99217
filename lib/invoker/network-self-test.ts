import type Docker from 'dockerode';
import { withDeadline } from './deadline';

/**
 * The invoker's check, at start, of the Docker network its action containers run on: a short-lived
 * container from a runtime image, on that network and as confined as an action's, tries a TCP
 * connection to each probe target and reports which connected. On EC2 the instance's user data
 * firewalls the action network (infra/constructs/action-network.ts); this is what proves the
 * firewall is in place before any action code runs, and the invoker refuses to run actions when an
 * action could reach the instance metadata service or the ECS credentials endpoint.
 */

export interface ProbeTarget {
  host: string;
  port: number;
}

export interface ActionNetworkCheckOptions {
  /** The Docker network action containers use (`SKYWHISK_DOCKER_NETWORK`). */
  network: string;
  /** An image with `node` on its PATH: a nodejs runtime image, as actions run it. */
  image: string;
  /** Where to try connecting from inside the network. */
  probes: readonly ProbeTarget[];
  /** How long each connection attempt may take before it counts as unreachable (all run at once). */
  timeoutMs: number;
  /** How long the whole check (container start included) may take. @default timeoutMs + 30 s */
  deadlineMs?: number;
  /** Labels of the probe container, e.g. the invoker's, so a successor removes it if this one dies. */
  labels?: Record<string, string>;
}

export interface ActionNetworkReport {
  reachable: ProbeTarget[];
  unreachable: ProbeTarget[];
}

/** What the check needs of a container (dockerode's `Container`). */
export interface ProbeContainer {
  start(): Promise<unknown>;
  wait(): Promise<{ StatusCode?: number }>;
  logs(options: { stdout: true; stderr: true; follow: false }): Promise<Buffer>;
  remove(options: { force: true }): Promise<unknown>;
}

/** What the check needs of Docker (dockerode's `Docker`). */
export interface ProbingDocker {
  createContainer(options: Docker.ContainerCreateOptions): Promise<ProbeContainer>;
}

const RESULT_KEY = 'skywhiskNetworkProbe';

/** Runs in the container: one connection attempt per probe, all at once, then one JSON line. */
const PROBE_SCRIPT = [
  "const net = require('node:net');",
  'const probes = JSON.parse(process.env.SKYWHISK_PROBES);',
  'const timeout = Number(process.env.SKYWHISK_PROBE_TIMEOUT_MS);',
  'const probe = ({ host, port }) => new Promise((resolve) => {',
  '  const socket = net.connect({ host, port });',
  '  const done = (connected) => { socket.destroy(); resolve(connected); };',
  '  socket.setTimeout(timeout, () => done(false));',
  "  socket.once('connect', () => done(true));",
  "  socket.once('error', () => done(false));",
  '});',
  `Promise.all(probes.map(probe)).then((connected) => console.log(JSON.stringify({ ${RESULT_KEY}: connected })));`,
].join('\n');

const MIB = 1024 * 1024;

/** Starts the probe container on `options.network` and reports which targets it could connect to. */
export async function checkActionNetwork(docker: ProbingDocker, options: ActionNetworkCheckOptions): Promise<ActionNetworkReport> {
  validate(options);
  const deadlineMs = options.deadlineMs ?? options.timeoutMs + 30_000;
  const container = await docker.createContainer({
    Image: options.image,
    Entrypoint: ['node'],
    Cmd: ['-e', PROBE_SCRIPT],
    Env: [`SKYWHISK_PROBES=${JSON.stringify(options.probes.map(({ host, port }) => ({ host, port })))}`, `SKYWHISK_PROBE_TIMEOUT_MS=${options.timeoutMs}`],
    Labels: { ...options.labels, 'skywhisk.network-self-test': 'true' },
    HostConfig: {
      // The action network, with an action container's confinement (lib/invoker/docker-factory.ts).
      NetworkMode: options.network,
      Memory: 128 * MIB,
      MemorySwap: 128 * MIB,
      PidsLimit: 64,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      ReadonlyRootfs: true,
    },
  });
  try {
    await container.start();
    const exit = await withDeadline(container.wait(), deadlineMs, `the probe container did not finish within ${deadlineMs} ms`);
    const { stdout, stderr } = demuxLogs(await container.logs({ stdout: true, stderr: true, follow: false }));
    if (exit.StatusCode !== 0) throw new Error(`the probe container exited with status ${exit.StatusCode}: ${tail(stderr || stdout)}`);
    const connected = parseResult(stdout, options.probes.length);
    return {
      reachable: options.probes.filter((_, i) => connected[i]),
      unreachable: options.probes.filter((_, i) => !connected[i]),
    };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** The endpoints no action may reach: they hand out the instance's and the ECS tasks' credentials. */
export const CREDENTIAL_ENDPOINTS: readonly ProbeTarget[] = [
  // EC2 instance metadata service (IMDS): the instance role's credentials.
  { host: '169.254.169.254', port: 80 },
  // ECS task metadata and credentials endpoint: the task roles' credentials (the invoker's among them).
  { host: '169.254.170.2', port: 80 },
];

/** Whether actions on `network` must be checked: not on `host`, where local runs and tests put them beside the invoker on purpose. */
export function networkSelfTestApplies(network: string): boolean {
  return network !== 'host';
}

/** The forbidden endpoints the report found reachable (none: actions may run). */
export function exposedEndpoints(report: ActionNetworkReport, forbidden: readonly ProbeTarget[] = CREDENTIAL_ENDPOINTS): ProbeTarget[] {
  return forbidden.filter((endpoint) => report.reachable.some((reached) => reached.host === endpoint.host && reached.port === endpoint.port));
}

/** An action on the network could reach a credentials endpoint: the invoker must not run actions. */
export class ActionNetworkExposedError extends Error {
  constructor(
    readonly network: string,
    readonly exposed: ProbeTarget[],
  ) {
    super(
      `Actions on Docker network '${network}' can reach ${exposed.map(({ host, port }) => `${host}:${port}`).join(' and ')} ` +
        '(instance metadata or ECS credentials): refusing to run actions. The instance firewall is missing (infra/constructs/action-network.ts).',
    );
    this.name = 'ActionNetworkExposedError';
  }
}

export interface VerifyActionNetworkOptions {
  network: string;
  image: string;
  /** @default 2000 */
  timeoutMs?: number;
  deadlineMs?: number;
  labels?: Record<string, string>;
  /** @default CREDENTIAL_ENDPOINTS */
  forbidden?: readonly ProbeTarget[];
  /** The check itself (tests pass a fake). @default checkActionNetwork */
  check?: (docker: ProbingDocker, options: ActionNetworkCheckOptions) => Promise<ActionNetworkReport>;
}

export type ActionNetworkVerdict = { checked: false; reason: string } | { checked: true; probed: ProbeTarget[] };

/**
 * The invoker's start-up policy. On `host` nothing is checked. On any other network the forbidden
 * endpoints are probed from inside it; it resolves when none is reachable and throws otherwise:
 * `ActionNetworkExposedError` when one is reachable, an error saying so when the check itself
 * could not run (fail closed: an unverified network is not trusted).
 */
export async function verifyActionNetwork(docker: ProbingDocker, options: VerifyActionNetworkOptions): Promise<ActionNetworkVerdict> {
  if (!networkSelfTestApplies(options.network)) return { checked: false, reason: `network '${options.network}': actions share the invoker's network on purpose (local use)` };
  const forbidden = options.forbidden ?? CREDENTIAL_ENDPOINTS;
  const check = options.check ?? checkActionNetwork;
  let report: ActionNetworkReport;
  try {
    report = await check(docker, {
      network: options.network,
      image: options.image,
      probes: forbidden,
      timeoutMs: options.timeoutMs ?? 2000,
      deadlineMs: options.deadlineMs,
      labels: options.labels,
    });
  } catch (error) {
    throw new Error(`Could not verify that actions on Docker network '${options.network}' are cut off from instance metadata and ECS credentials (${(error as Error).message}): refusing to run actions.`, {
      cause: error,
    });
  }
  const exposed = exposedEndpoints(report, forbidden);
  if (exposed.length) throw new ActionNetworkExposedError(options.network, exposed);
  return { checked: true, probed: [...forbidden] };
}

function validate(options: ActionNetworkCheckOptions): void {
  const problems: string[] = [];
  if (!options.network) problems.push('network is empty');
  if (!options.image) problems.push('image is empty');
  if (!options.probes.length) problems.push('no probes');
  for (const { host, port } of options.probes) {
    if (!host) problems.push('a probe has no host');
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`probe ${host}:${port} has no valid port`);
  }
  if (!(options.timeoutMs > 0)) problems.push(`timeoutMs must be positive (got ${options.timeoutMs})`);
  if (problems.length) throw new Error(`checkActionNetwork: ${problems.join('; ')}.`);
}

/** The JSON line the script printed: one boolean per probe. */
function parseResult(stdout: string, count: number): boolean[] {
  for (const line of stdout.split(/\r?\n/).reverse()) {
    if (!line.includes(RESULT_KEY)) continue;
    try {
      const connected = (JSON.parse(line) as Record<string, unknown>)[RESULT_KEY];
      if (Array.isArray(connected) && connected.length === count && connected.every((c) => typeof c === 'boolean')) return connected;
    } catch {
      // not the result line
    }
  }
  throw new Error(`the probe container printed no result: ${tail(stdout)}`);
}

/**
 * Docker's log frames (no TTY): an 8-byte header (stream 1 stdout or 2 stderr, three zero bytes,
 * a big-endian length) then the payload. Anything else is taken as plain stdout.
 */
export function demuxLogs(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const framed = offset + 8 <= buffer.length && buffer[offset] <= 2 && buffer[offset + 1] === 0 && buffer[offset + 2] === 0 && buffer[offset + 3] === 0;
    const size = framed ? buffer.readUInt32BE(offset + 4) : 0;
    if (!framed || offset + 8 + size > buffer.length) return offset === 0 ? { stdout: buffer.toString('utf8'), stderr: '' } : join(out, err);
    (buffer[offset] === 2 ? err : out).push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return join(out, err);
}

function join(out: Buffer[], err: Buffer[]): { stdout: string; stderr: string } {
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed ? trimmed.slice(-500) : '(no output)';
}

