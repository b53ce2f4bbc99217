import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { pack } from 'tar-fs';

const RUNTIMES_DIR = resolve(__dirname, '../../runtimes');

/** Local base images, made without any registry. */
export const LOCAL_BASES = {
  debian: 'skywhisk/debian:bookworm',
  node20: 'skywhisk/node:20',
} as const;

export interface RuntimeImage {
  image: string;
  /** Folder under runtimes/ holding the Dockerfile and proxy. */
  folder: string;
  /** The BASE build argument when built offline. */
  localBase: string;
}

/** Every runtime image `npm run images` builds, by the image name the runtimes manifest uses. */
export const RUNTIME_IMAGES: RuntimeImage[] = [
  { image: 'skywhisk/action-nodejs-v20', folder: 'nodejs', localBase: LOCAL_BASES.node20 },
  { image: 'skywhisk/action-python-v3.11', folder: 'python', localBase: LOCAL_BASES.debian },
];

/** Images carry the hash of what they were built from; a different hash means rebuild. */
export const RECIPE_LABEL = 'skywhisk.recipe';

const DEBIAN_PACKAGES = 'python3,ca-certificates,unzip';

/** The recipe hash an image has, or undefined when the image is missing. */
async function recipeOf(docker: Docker, name: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(name).inspect();
    return info.Config?.Labels?.[RECIPE_LABEL] ?? '';
  } catch {
    return undefined;
  }
}

function hashOf(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex').slice(0, 16);
}

/** Hash of every file in a build context folder. */
function folderHash(folder: string): string {
  const files = readdirSync(folder).sort();
  return hashOf(...files.flatMap((file) => [file, readFileSync(join(folder, file))]));
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

/** The Debian mirror apt uses here, so debootstrap needs no other address. */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const text = readFileSync(file, 'utf8');
      const match = /^URIs:\s*(\S+)/m.exec(text) ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm/m.exec(text);
      if (match) return match[1];
    } catch {
      // try the next file
    }
  }
  return 'http://deb.debian.org/debian';
}

async function followBuild(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  await new Promise<void>((done, fail) => {
    docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
      const failed = error ?? output.find((o) => o.error);
      if (failed) fail(failed instanceof Error ? failed : new Error((failed as { error: string }).error));
      else done();
    });
  });
}

/** A minimal Debian bookworm (with python3 3.11, its standard library, CA certificates and unzip) imported from debootstrap. */
export async function buildDebianBase(docker: Docker, log: (line: string) => void): Promise<void> {
  const rootfs = mkdtempSync(join(tmpdir(), 'skywhisk-rootfs-'));
  try {
    log(`debootstrap bookworm into ${rootfs} (about 40 s)`);
    await run('debootstrap', ['--variant=minbase', `--include=${DEBIAN_PACKAGES}`, 'bookworm', rootfs, debianMirror()]);
    const [repo, tag] = LOCAL_BASES.debian.split(':');
    // GNU tar, not tar-fs: a root filesystem has device nodes (dev/console) tar-fs cannot pack.
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.importImage(tar.stdout as unknown as string, { repo, tag, changes: [`LABEL ${RECIPE_LABEL}=${debianRecipe()}`] });
    await followBuild(docker, stream);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

function debianRecipe(): string {
  return hashOf('debootstrap minbase bookworm', DEBIAN_PACKAGES);
}

function nodeBaseRecipe(): string {
  return hashOf(debianRecipe(), process.version);
}

/** Builds an image from a folder with a Dockerfile. */
export async function buildFromFolder(
  docker: Docker,
  folder: string,
  tag: string,
  buildargs: Record<string, string> = {},
  recipe = folderHash(folder),
): Promise<void> {
  const stream = await docker.buildImage(pack(folder) as unknown as NodeJS.ReadableStream, {
    t: tag,
    buildargs,
    labels: { [RECIPE_LABEL]: recipe },
    rm: true,
    forcerm: true,
  });
  await followBuild(docker, stream);
}

/** The Debian base plus this machine's Node 20 binary (no Node image can be pulled here). */
export async function buildNodeBase(docker: Docker): Promise<void> {
  if (!process.version.startsWith('v20.')) throw new Error(`the local nodejs:20 base needs Node 20 on the host, found ${process.version}`);
  const context = mkdtempSync(join(tmpdir(), 'skywhisk-node-base-'));
  try {
    copyFileSync(process.execPath, join(context, 'node'));
    writeFileSync(join(context, 'Dockerfile'), `FROM ${LOCAL_BASES.debian}\nCOPY node /usr/local/bin/node\n`);
    await buildFromFolder(docker, context, LOCAL_BASES.node20, {}, nodeBaseRecipe());
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * Builds every image that is missing or was built from another recipe (or all, with `rebuild`):
 * the bases, then the runtime images. A runtime image's recipe covers its folder and its base's.
 */
export async function buildImages(docker: Docker, options: { rebuild?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  const needed = async (name: string, recipe: string) => options.rebuild || (await recipeOf(docker, name)) !== recipe;
  if (await needed(LOCAL_BASES.debian, debianRecipe())) {
    await buildDebianBase(docker, log);
    log(`built ${LOCAL_BASES.debian}`);
  }
  if (await needed(LOCAL_BASES.node20, nodeBaseRecipe())) {
    await buildNodeBase(docker);
    log(`built ${LOCAL_BASES.node20}`);
  }
  for (const runtime of RUNTIME_IMAGES) {
    const folder = join(RUNTIMES_DIR, runtime.folder);
    const recipe = hashOf(folderHash(folder), runtime.localBase === LOCAL_BASES.node20 ? nodeBaseRecipe() : debianRecipe());
    if (!(await needed(runtime.image, recipe))) continue;
    await buildFromFolder(docker, folder, runtime.image, { BASE: runtime.localBase }, recipe);
    log(`built ${runtime.image}`);
  }
}
