import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeAuthorizationToken, ecrRegistryOf, imagesToPull, pullMissingImages, type PullingDocker } from '../../lib/invoker/ecr-pull';
import { resolveInvokerId } from '../../lib/invoker/ecs-task';

// On ECS the docker-mode invoker pulls the deployment's runtime images from ECR before use. ECR is
// AWS's control plane and no registry is reachable here: ECR's client is mocked and the Docker
// engine is a fake that records pulls; the ECS task metadata endpoint is a server on 127.0.0.1.

const ecr = mockClient(ECRClient);
const REGISTRY = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const NODE_IMAGE = `${REGISTRY}/cdk-hnb659fds-container-assets-123456789012-us-east-1:1111`;
const PYTHON_IMAGE = `${REGISTRY}/cdk-hnb659fds-container-assets-123456789012-us-east-1:2222`;

/** A Docker engine holding `present`, whose pulls record their options and stream `progress`. */
function fakeDocker(present: string[], progress: object[] = [{ status: 'Pull complete' }]) {
  const pulls: Array<{ image: string; options: unknown }> = [];
  const have = new Set(present);
  const docker: PullingDocker = {
    getImage: (name) => ({ inspect: () => (have.has(name) ? Promise.resolve({ Id: name }) : Promise.reject(new Error('no such image'))) }),
    pull: async (image, options) => {
      pulls.push({ image, options });
      const stream = new PassThrough();
      stream.end(progress.map((line) => JSON.stringify(line)).join('\n'));
      return stream;
    },
    modem: {
      followProgress: (stream, onFinished) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
        stream.on('end', () => onFinished(null, text.split('\n').filter(Boolean).map((line) => JSON.parse(line))));
      },
    },
  };
  return { docker, pulls };
}

beforeEach(() => ecr.reset());

test('ECR authorization tokens decode to the AWS user and its password; other shapes are refused', () => {
  expect(decodeAuthorizationToken(Buffer.from('AWS:eyJwYXlsb2FkIjoi:with:colons').toString('base64'))).toEqual({ username: 'AWS', password: 'eyJwYXlsb2FkIjoi:with:colons' });
  expect(() => decodeAuthorizationToken(Buffer.from('no-colon').toString('base64'))).toThrow(/not base64 of "user:password"/);
  expect(() => decodeAuthorizationToken(Buffer.from('AWS:').toString('base64'))).toThrow(/not base64/);
});

test('ECR image references are recognised by their registry host, others are not', () => {
  expect(ecrRegistryOf(NODE_IMAGE)).toEqual({ host: REGISTRY, account: '123456789012', region: 'us-east-1' });
  expect(ecrRegistryOf('111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/repo@sha256:abc')).toMatchObject({ region: 'cn-north-1' });
  expect(ecrRegistryOf('skywhisk/action-nodejs-v20')).toBeUndefined();
  expect(ecrRegistryOf('public.ecr.aws/docker/library/node:20')).toBeUndefined();
  expect(ecrRegistryOf('node:20')).toBeUndefined();
});

test('only images the engine does not have need pulling, each once', async () => {
  // GIVEN an engine that already has the nodejs image
  const { docker } = fakeDocker([NODE_IMAGE]);
  // WHEN
  const missing = await imagesToPull(docker, [NODE_IMAGE, PYTHON_IMAGE, PYTHON_IMAGE]);
  // THEN
  expect(missing).toEqual([PYTHON_IMAGE]);
});

test('missing ECR images are pulled with one ECR login, and present ones are skipped', async () => {
  // GIVEN an engine with none of the images and an ECR that hands out a token
  const { docker, pulls } = fakeDocker([]);
  ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:secret-password').toString('base64'), proxyEndpoint: `https://${REGISTRY}` }] });
  const regions: string[] = [];
  const lines: string[] = [];
  // WHEN
  const pulled = await pullMissingImages(docker, [NODE_IMAGE, PYTHON_IMAGE, 'registry.example/other:1'], {
    ecrFor: (region) => (regions.push(region), new ECRClient({ region })),
    log: (line) => lines.push(line),
  });
  // THEN every image is pulled, ECR ones with the decoded login for their registry
  expect(pulled).toEqual([NODE_IMAGE, PYTHON_IMAGE, 'registry.example/other:1']);
  const auth = { authconfig: { username: 'AWS', password: 'secret-password', serveraddress: `https://${REGISTRY}` } };
  expect(pulls).toEqual([
    { image: NODE_IMAGE, options: auth },
    { image: PYTHON_IMAGE, options: auth },
    { image: 'registry.example/other:1', options: {} },
  ]);
  expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
  expect(regions).toEqual(['us-east-1']);
  expect(lines).toContain(`pulled ${PYTHON_IMAGE}`);

  // WHEN the images are present (a restarted invoker on the same host)
  const again = fakeDocker([NODE_IMAGE, PYTHON_IMAGE]);
  // THEN nothing is pulled and ECR is not asked
  ecr.resetHistory();
  expect(await pullMissingImages(again.docker, [NODE_IMAGE, PYTHON_IMAGE])).toEqual([]);
  expect(again.pulls).toEqual([]);
  expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(0);
});

test('an error line in the pull progress fails the pull with the image named', async () => {
  const { docker } = fakeDocker([], [{ status: 'Pulling' }, { error: 'denied: not authorized' }]);
  ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [{ authorizationToken: Buffer.from('AWS:p').toString('base64') }] });
  await expect(pullMissingImages(docker, [NODE_IMAGE])).rejects.toThrow(`pulling ${NODE_IMAGE} failed: denied: not authorized`);
});

test('ECR without a token is an error, not an anonymous pull', async () => {
  const { docker, pulls } = fakeDocker([]);
  ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
  await expect(pullMissingImages(docker, [NODE_IMAGE])).rejects.toThrow(/returned no token/);
  expect(pulls).toEqual([]);
});

describe('invoker id', () => {
  let server: Server;
  let metadataUri: string;
  beforeAll(async () => {
    // A stand-in for the ECS task metadata endpoint (v4), on loopback.
    server = createServer((request, response) => {
      if (request.url === '/v4/abc/task') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/invokers', TaskARN: 'arn:aws:ecs:us-east-1:123456789012:task/invokers/0f5e1c6a2b3d4e5f8a9b0c1d2e3f4a5b' }));
      } else {
        response.statusCode = 404;
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    metadataUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/abc`;
  });
  afterAll(() => server.close());

  test('on ECS it is the task id, unless SKYWHISK_INVOKER_ID names one; elsewhere invoker0', async () => {
    expect(await resolveInvokerId({ ECS_CONTAINER_METADATA_URI_V4: metadataUri })).toBe('0f5e1c6a2b3d4e5f8a9b0c1d2e3f4a5b');
    expect(await resolveInvokerId({ ECS_CONTAINER_METADATA_URI_V4: metadataUri, SKYWHISK_INVOKER_ID: 'mine' })).toBe('mine');
    expect(await resolveInvokerId({})).toBe('invoker0');
    await expect(resolveInvokerId({ ECS_CONTAINER_METADATA_URI_V4: `${metadataUri}/missing` })).rejects.toThrow(/answered 404/);
  });
});
