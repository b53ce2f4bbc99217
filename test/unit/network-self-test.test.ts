import type Docker from 'dockerode';
import {
  ActionNetworkExposedError,
  checkActionNetwork,
  CREDENTIAL_ENDPOINTS,
  demuxLogs,
  exposedEndpoints,
  networkSelfTestApplies,
  verifyActionNetwork,
  type ActionNetworkCheckOptions,
  type ActionNetworkReport,
  type ProbeContainer,
  type ProbingDocker,
} from '../../lib/invoker/network-self-test';

// The invoker's start-up check of the action network, and its policy. No traffic leaves this
// process: Docker is a fake that records what it is asked and answers with canned container
// output, and the policy is fed canned reports. (test/docker/network-self-test.test.ts runs the
// probe in a real container, against loopback only.)

const IMDS = { host: '169.254.169.254', port: 80 };
const ECS_CREDENTIALS = { host: '169.254.170.2', port: 80 };

/** A Docker log frame (no TTY): stream 1 stdout, 2 stderr. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface FakeRun {
  status?: number;
  logs?: Buffer;
  /** wait() never resolves (a hung probe). */
  hang?: boolean;
}

function fakeDocker(run: FakeRun) {
  const created: Docker.ContainerCreateOptions[] = [];
  const events: string[] = [];
  const docker: ProbingDocker = {
    createContainer: async (options) => {
      created.push(options);
      const container: ProbeContainer = {
        start: async () => events.push('start'),
        wait: () => (run.hang ? new Promise(() => undefined) : Promise.resolve({ StatusCode: run.status ?? 0 })),
        logs: async () => run.logs ?? Buffer.alloc(0),
        remove: async (options) => events.push(`remove force=${options.force}`),
      };
      return container;
    },
  };
  return { docker, created, events };
}

const result = (connected: boolean[]) => frame(1, `${JSON.stringify({ skywhiskNetworkProbe: connected })}\n`);

const OPTIONS: ActionNetworkCheckOptions = {
  network: 'skywhisk-actions',
  image: 'skywhisk/action-nodejs-v20',
  probes: [IMDS, ECS_CREDENTIALS, { host: '10.0.0.5', port: 443 }],
  timeoutMs: 1500,
  labels: { 'skywhisk.invoker': 'inv-1' },
};

describe('checkActionNetwork', () => {
  test('runs node in the runtime image on the action network, confined like an action, and reports which probes connected', async () => {
    // GIVEN a probe container whose script found only the third target reachable
    const { docker, created, events } = fakeDocker({ logs: Buffer.concat([frame(2, 'a warning\n'), result([false, false, true])]) });
    // WHEN
    const report = await checkActionNetwork(docker, OPTIONS);
    // THEN
    expect(report).toEqual({ reachable: [{ host: '10.0.0.5', port: 443 }], unreachable: [IMDS, ECS_CREDENTIALS] });
    const [options] = created;
    expect(options).toMatchObject({
      Image: 'skywhisk/action-nodejs-v20',
      Entrypoint: ['node'],
      Cmd: ['-e', expect.stringContaining("require('node:net')")],
      Labels: { 'skywhisk.invoker': 'inv-1', 'skywhisk.network-self-test': 'true' },
      HostConfig: expect.objectContaining({ NetworkMode: 'skywhisk-actions', CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], ReadonlyRootfs: true }),
    });
    expect(options.Env).toEqual([`SKYWHISK_PROBES=${JSON.stringify(OPTIONS.probes)}`, 'SKYWHISK_PROBE_TIMEOUT_MS=1500']);
    expect(events).toEqual(['start', 'remove force=true']);
  });

  test('a failed, silent or hung probe container is an error, and the container is removed', async () => {
    const failed = fakeDocker({ status: 137, logs: frame(2, 'Killed\n') });
    await expect(checkActionNetwork(failed.docker, OPTIONS)).rejects.toThrow(/exited with status 137: Killed/);
    expect(failed.events).toEqual(['start', 'remove force=true']);

    const silent = fakeDocker({ logs: frame(1, 'hello\n') });
    await expect(checkActionNetwork(silent.docker, OPTIONS)).rejects.toThrow(/printed no result: hello/);

    const short = fakeDocker({ logs: result([true]) });
    await expect(checkActionNetwork(short.docker, OPTIONS)).rejects.toThrow(/printed no result/);

    const hung = fakeDocker({ hang: true });
    await expect(checkActionNetwork(hung.docker, { ...OPTIONS, deadlineMs: 50 })).rejects.toThrow(/did not finish within 50 ms/);
    expect(hung.events).toEqual(['start', 'remove force=true']);
  });

  test('bad options are refused before any container is created', async () => {
    const { docker, created } = fakeDocker({});
    await expect(checkActionNetwork(docker, { ...OPTIONS, probes: [] })).rejects.toThrow(/no probes/);
    await expect(checkActionNetwork(docker, { ...OPTIONS, probes: [{ host: '127.0.0.1', port: 0 }], timeoutMs: 0 })).rejects.toThrow(/no valid port.*timeoutMs must be positive/);
    expect(created).toEqual([]);
  });

  test('log frames are split into stdout and stderr; unframed (TTY) output is stdout', () => {
    expect(demuxLogs(Buffer.concat([frame(1, 'out '), frame(2, 'err'), frame(1, 'more')]))).toEqual({ stdout: 'out more', stderr: 'err' });
    expect(demuxLogs(Buffer.from('{"plain":true}\r\n'))).toEqual({ stdout: '{"plain":true}\r\n', stderr: '' });
    expect(demuxLogs(Buffer.alloc(0))).toEqual({ stdout: '', stderr: '' });
  });
});

describe('the policy', () => {
  const report = (reachable: Array<{ host: string; port: number }>): ActionNetworkReport => ({ reachable, unreachable: [] });

  /** A check that records its options and returns `reachable` (or throws `error`). */
  function fakeCheck(reachable: Array<{ host: string; port: number }>, error?: Error) {
    const calls: ActionNetworkCheckOptions[] = [];
    const check = async (_docker: ProbingDocker, options: ActionNetworkCheckOptions) => {
      calls.push(options);
      if (error) throw error;
      return report(reachable);
    };
    return { check, calls };
  }
  const docker = fakeDocker({}).docker;
  const verify = (check: ReturnType<typeof fakeCheck>['check'], network = 'skywhisk-actions') =>
    verifyActionNetwork(docker, { network, image: 'skywhisk/action-nodejs-v20', labels: { 'skywhisk.invoker': 'inv-1' }, check });

  test('the forbidden endpoints are the instance metadata service and the ECS credentials endpoint, port 80', () => {
    expect(CREDENTIAL_ENDPOINTS).toEqual([IMDS, ECS_CREDENTIALS]);
  });

  test('host networking is not checked (local runs and tests); any other network is', () => {
    expect(networkSelfTestApplies('host')).toBe(false);
    expect(networkSelfTestApplies('skywhisk-actions')).toBe(true);
    expect(networkSelfTestApplies('none')).toBe(true);
  });

  test('on host networking nothing is probed', async () => {
    const { check, calls } = fakeCheck([IMDS]);
    await expect(verify(check, 'host')).resolves.toEqual({ checked: false, reason: expect.stringContaining("'host'") });
    expect(calls).toEqual([]);
  });

  test('with neither endpoint reachable actions may run; exactly those two endpoints are probed, with the invoker labels', async () => {
    const { check, calls } = fakeCheck([{ host: '203.0.113.10', port: 443 }]);
    await expect(verify(check)).resolves.toEqual({ checked: true, probed: [IMDS, ECS_CREDENTIALS] });
    expect(calls).toEqual([
      { network: 'skywhisk-actions', image: 'skywhisk/action-nodejs-v20', probes: [IMDS, ECS_CREDENTIALS], timeoutMs: 2000, deadlineMs: undefined, labels: { 'skywhisk.invoker': 'inv-1' } },
    ]);
  });

  test.each([
    ['the metadata service', [IMDS], /can reach 169\.254\.169\.254:80 \(/],
    ['the ECS credentials endpoint', [ECS_CREDENTIALS], /can reach 169\.254\.170\.2:80 \(/],
    ['both', [ECS_CREDENTIALS, IMDS], /can reach 169\.254\.169\.254:80 and 169\.254\.170\.2:80/],
  ])('reaching %s refuses to run actions', async (_what, reachable, message) => {
    const { check } = fakeCheck(reachable);
    const refusal = verify(check);
    await expect(refusal).rejects.toBeInstanceOf(ActionNetworkExposedError);
    await expect(refusal).rejects.toThrow(message);
    await expect(refusal).rejects.toThrow(/refusing to run actions/);
  });

  test('the same host on another port is not the endpoint', () => {
    expect(exposedEndpoints(report([{ host: '169.254.169.254', port: 8080 }]))).toEqual([]);
    expect(exposedEndpoints(report([{ host: '169.254.169.254', port: 80 }]))).toEqual([IMDS]);
  });

  test('a check that cannot run fails closed: actions are refused, with the cause', async () => {
    const cause = new Error("network skywhisk-actions not found");
    const { check } = fakeCheck([], cause);
    const refusal = verify(check);
    await expect(refusal).rejects.toThrow(/Could not verify .*'skywhisk-actions'.*network skywhisk-actions not found.*refusing to run actions/);
    await expect(refusal).rejects.toMatchObject({ cause });
  });
});
