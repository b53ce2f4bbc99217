import { createServer, type Server } from 'node:net';
import Docker from 'dockerode';
import { checkActionNetwork } from '../../lib/invoker/network-self-test';
import { imageForKind } from '../../lib/model/runtimes';
import { dockerTestsEnabled } from '../helpers/docker';

// The network probe in a real container from the local nodejs runtime image (`npm run images`).
// Its targets are loopback only: a listening and a closed port of 127.0.0.1. On the host network
// the container shares this loopback and reaches the listener; on `none` it has a loopback of its
// own and reaches nothing.

const describeDocker = dockerTestsEnabled() ? describe : describe.skip;
const LABEL = `network-self-test-${process.pid}`;

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

describeDocker('the action network probe on real Docker (loopback targets only)', () => {
  const docker = new Docker();
  const image = imageForKind('nodejs:20');
  let open: Server;
  let closed: number;

  beforeAll(async () => {
    open = await listen();
    // A port that was just free, then closed again: nothing listens on it.
    const ephemeral = await listen();
    closed = portOf(ephemeral);
    await new Promise((resolve) => ephemeral.close(resolve));
  });

  afterAll(async () => {
    open?.close();
    const left = await docker.listContainers({ all: true, filters: { label: [`skywhisk.invoker=${LABEL}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  });

  test('on the host network the listening port is reachable and the closed one is not; the container is gone afterwards', async () => {
    const probes = [
      { host: '127.0.0.1', port: portOf(open) },
      { host: '127.0.0.1', port: closed },
    ];
    const report = await checkActionNetwork(docker, { network: 'host', image, probes, timeoutMs: 1000, labels: { 'skywhisk.invoker': LABEL } });
    expect(report).toEqual({ reachable: [probes[0]], unreachable: [probes[1]] });
    expect(await docker.listContainers({ all: true, filters: { label: [`skywhisk.invoker=${LABEL}`] } })).toEqual([]);
  });

  test('on the none network nothing is reachable', async () => {
    const probes = [{ host: '127.0.0.1', port: portOf(open) }];
    const report = await checkActionNetwork(docker, { network: 'none', image, probes, timeoutMs: 1000, labels: { 'skywhisk.invoker': LABEL } });
    expect(report).toEqual({ reachable: [], unreachable: probes });
  });

  test('a network Docker does not have is an error', async () => {
    await expect(
      checkActionNetwork(docker, { network: `skywhisk-missing-${process.pid}`, image, probes: [{ host: '127.0.0.1', port: closed }], timeoutMs: 500, labels: { 'skywhisk.invoker': LABEL } }),
    ).rejects.toThrow(/network/i);
  });
});
