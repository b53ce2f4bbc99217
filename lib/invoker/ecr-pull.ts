import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';

/**
 * Pulls the runtime images a deployment's manifest names (`SKYWHISK_RUNTIME_IMAGES`) before the
 * docker factory starts containers from them. ECR images are pulled with a token from ECR's
 * GetAuthorizationToken (the task role may pull them: infra/constructs/runtime-images.ts grantPull);
 * other images are pulled anonymously. Images already present are not pulled again: the CDK names
 * its images by content hash, so a present tag is the right image.
 */

/** A private ECR registry host: `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China). */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

export interface EcrRegistry {
  /** The registry host, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com`. */
  host: string;
  account: string;
  region: string;
}

/** The ECR registry an image reference is in, or undefined for any other registry. */
export function ecrRegistryOf(image: string): EcrRegistry | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const host = image.slice(0, slash);
  const match = ECR_HOST.exec(host);
  return match ? { host, account: match[1], region: match[2] } : undefined;
}

/** What Docker's `X-Registry-Auth` carries for a registry login. */
export interface DockerAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** ECR's authorization token is base64 of `AWS:<password>`: the user and password of a Docker login. */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) throw new Error('ECR returned an authorization token that is not base64 of "user:password".');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A Docker login for an ECR registry, from GetAuthorizationToken (valid 12 hours). */
export async function ecrLogin(ecr: ECRClient, registry: EcrRegistry): Promise<DockerAuth> {
  const response = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = response.authorizationData?.[0];
  if (!data?.authorizationToken) throw new Error(`ECR GetAuthorizationToken returned no token for ${registry.host}.`);
  const { username, password } = decodeAuthorizationToken(data.authorizationToken);
  // The token is good for every registry the caller may read; the login is for the image's own host.
  return { username, password, serveraddress: `https://${registry.host}` };
}

/** The part of dockerode these functions use (a fake in tests). */
export interface PullingDocker {
  getImage(name: string): { inspect(): Promise<unknown> };
  pull(image: string, options?: object): Promise<NodeJS.ReadableStream>;
  modem: { followProgress(stream: NodeJS.ReadableStream, onFinished: (error: Error | null, output: unknown[]) => void): void };
}

/** The images, without repeats, that the engine does not have yet. */
export async function imagesToPull(docker: PullingDocker, images: Iterable<string>): Promise<string[]> {
  const missing: string[] = [];
  for (const image of new Set(images)) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      missing.push(image);
    }
  }
  return missing;
}

/** Reads a pull's progress stream to its end; a progress line with an error fails the pull. */
function followPull(docker: PullingDocker, stream: NodeJS.ReadableStream, image: string): Promise<void> {
  return new Promise((done, fail) => {
    docker.modem.followProgress(stream, (error, output) => {
      const failed = error ?? (output as Array<{ error?: string }>).find((line) => line?.error);
      if (!failed) done();
      else fail(new Error(`pulling ${image} failed: ${failed instanceof Error ? failed.message : (failed as { error: string }).error}`));
    });
  });
}

export interface PullOptions {
  /** The ECR client of a region (default: a new client per region, credentials from the SDK chain). */
  ecrFor?: (region: string) => ECRClient;
  log?: (line: string) => void;
}

/**
 * Pulls every image of `images` the engine does not have, logging in to ECR for ECR images (one
 * token per registry). Returns the images it pulled.
 */
export async function pullMissingImages(docker: PullingDocker, images: Iterable<string>, options: PullOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => undefined);
  const ecrFor = options.ecrFor ?? ((region: string) => new ECRClient({ region }));
  const logins = new Map<string, Promise<DockerAuth>>();
  const missing = await imagesToPull(docker, images);
  for (const image of missing) {
    const registry = ecrRegistryOf(image);
    let authconfig: DockerAuth | undefined;
    if (registry) {
      if (!logins.has(registry.host)) logins.set(registry.host, ecrLogin(ecrFor(registry.region), registry));
      authconfig = await logins.get(registry.host)!;
    }
    log(`pulling ${image}`);
    const stream = await docker.pull(image, authconfig ? { authconfig } : {});
    await followPull(docker, stream, image);
    log(`pulled ${image}`);
  }
  return missing;
}
