import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { pack } from 'tar-fs';

const RUNTIMES_DIR = resolve(__dirname, '../../runtimes');

/** Local base images, made without any container registry. */
export const LOCAL_BASES = {
  debian: 'skywhisk/debian:bookworm',
  python: 'skywhisk/python:3.11',
  node20: 'skywhisk/node:20',
  node22: 'skywhisk/node:22',
} as const;

/**
 * The Node binary of each local nodejs base: a package of runtimes/bases/package.json (the npm
 * registry's `node-linux-<arch>`, pinned by that folder's lockfile, for the host's architecture),
 * so a base has the Node major its kind names whatever Node the host runs.
 */
const NODE_BASE_PACKAGES: Record<string, string> = {
  [LOCAL_BASES.node20]: `node20-${process.arch}`,
  [LOCAL_BASES.node22]: `node22-${process.arch}`,
};

export interface RuntimeImage {
  image: string;
  /** Folder under runtimes/ holding the Dockerfile and proxy (and the libraries it preinstalls). */
  folder: string;
  /** The BASE build argument when built offline. */
  localBase: string;
  /** The BASE build argument in AWS: a Docker Official Image through ECR Public (no Docker Hub pull limits). */
  publicBase: string;
}

/** Every runtime image `npm run images` builds, by the image name the runtimes manifest uses. */
export const RUNTIME_IMAGES: RuntimeImage[] = [
  { image: 'skywhisk/action-nodejs-v22', folder: 'nodejs', localBase: LOCAL_BASES.node22, publicBase: 'public.ecr.aws/docker/library/node:22-bookworm-slim' },
  { image: 'skywhisk/action-nodejs-v20', folder: 'nodejs', localBase: LOCAL_BASES.node20, publicBase: 'public.ecr.aws/docker/library/node:20-bookworm-slim' },
  { image: 'skywhisk/action-python-v3.11', folder: 'python', localBase: LOCAL_BASES.python, publicBase: 'public.ecr.aws/docker/library/python:3.11-slim-bookworm' },
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

/**
 * The files of a runtime folder that go into its image's build context: not what an install
 * there left (node_modules), which the build stages afresh from the lockfile.
 */
function contextFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
}

/** Hash of every file in a build context folder. */
function folderHash(folder: string): string {
  return hashOf(...contextFiles(folder).flatMap((file) => [file, readFileSync(join(folder, file))]));
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
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

/**
 * What each Debian base is debootstrapped with: the plain one (python3 3.11 and its standard
 * library, CA certificates, unzip) under the nodejs bases, and the python runtime's, which adds the
 * libraries OpenWhisk's python image preinstalls, as Debian packages (runtimes/python/debian-packages.txt).
 */
function debianPackages(base: string): string[] {
  const plain = DEBIAN_PACKAGES.split(',');
  if (base !== LOCAL_BASES.python) return plain;
  const listed = readFileSync(join(RUNTIMES_DIR, 'python', 'debian-packages.txt'), 'utf8').split('\n').map((line) => line.trim());
  return [...plain, ...listed.filter((line) => line && !line.startsWith('#'))];
}

/** A minimal Debian bookworm with `debianPackages(base)`, imported from debootstrap. */
export async function buildDebianBase(docker: Docker, log: (line: string) => void, base: string = LOCAL_BASES.debian): Promise<void> {
  const rootfs = mkdtempSync(join(tmpdir(), 'skywhisk-rootfs-'));
  try {
    log(`debootstrap bookworm for ${base} into ${rootfs} (about a minute)`);
    await run('debootstrap', ['--variant=minbase', `--include=${debianPackages(base).join(',')}`, 'bookworm', rootfs, debianMirror()]);
    const [repo, tag] = base.split(':');
    // GNU tar, not tar-fs: a root filesystem has device nodes (dev/console) tar-fs cannot pack.
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const stream = await docker.importImage(tar.stdout as unknown as string, { repo, tag, changes: [`LABEL ${RECIPE_LABEL}=${debianRecipe(base)}`] });
    await followBuild(docker, stream);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

function debianRecipe(base: string = LOCAL_BASES.debian): string {
  // The plain base keeps the recipe it always had (no rebuild of what is already here).
  return hashOf('debootstrap minbase bookworm', debianPackages(base).join(','));
}

function nodeBaseRecipe(base: string): string {
  return hashOf(debianRecipe(), NODE_BASE_PACKAGES[base], readFileSync(join(RUNTIMES_DIR, 'bases', 'package-lock.json')));
}

/**
 * `npm ci` of a folder's lockfile, with no install scripts and only what npm needs of the
 * environment (an invoker building its images at start holds secrets the child has no use for).
 * npm is the one beside this Node, else the one on PATH.
 */
function npmCi(folder: string): Promise<void> {
  const beside = join(dirname(process.execPath), 'npm');
  const npm = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? process.execPath : existsSync(beside) ? beside : 'npm';
  const args = npm === process.execPath ? [process.env.npm_execpath!] : [];
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => ['PATH', 'HOME', 'TMPDIR'].includes(name) || /^npm_config_/i.test(name)));
  return run(npm, [...args, 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', folder], env);
}

/**
 * A copy of a folder's files with its locked npm dependencies installed beside them (`npm ci`,
 * no install scripts): what an image that preinstalls libraries is built from, offline but for
 * the npm registry. A folder without a lockfile is copied as it is.
 */
async function stageFolder(folder: string): Promise<string> {
  const staged = mkdtempSync(join(tmpdir(), 'skywhisk-context-'));
  try {
    for (const file of contextFiles(folder)) copyFileSync(join(folder, file), join(staged, file));
    if (existsSync(join(staged, 'package-lock.json'))) {
      await npmCi(staged).catch((error: Error) => {
        throw new Error(`installing the locked packages of ${folder} (npm ci, from the npm registry) failed: ${error.message}`, { cause: error });
      });
    }
    return staged;
  } catch (error) {
    rmSync(staged, { recursive: true, force: true });
    throw error;
  }
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

/** The Debian base plus the Node binary its name asks for (no Node image can be pulled here). */
async function buildNodeBase(docker: Docker, base: string, binaries: string): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'skywhisk-node-base-'));
  try {
    const node = join(context, 'node');
    copyFileSync(join(binaries, 'node_modules', NODE_BASE_PACKAGES[base], 'bin', 'node'), node);
    chmodSync(node, 0o755);
    writeFileSync(join(context, 'Dockerfile'), `FROM ${LOCAL_BASES.debian}\nCOPY node /usr/local/bin/node\n`);
    await buildFromFolder(docker, context, base, {}, nodeBaseRecipe(base));
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** The recipe hash of a local base image. */
function baseRecipe(base: string): string {
  return base === LOCAL_BASES.debian || base === LOCAL_BASES.python ? debianRecipe(base) : nodeBaseRecipe(base);
}

/**
 * Builds every image that is missing or was built from another recipe (or all, with `rebuild`):
 * the bases, then the runtime images. A runtime image's recipe covers its folder and its base's.
 */
export async function buildImages(docker: Docker, options: { rebuild?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  const needed = async (name: string, recipe: string) => options.rebuild || (await recipeOf(docker, name)) !== recipe;
  for (const base of [LOCAL_BASES.debian, LOCAL_BASES.python]) {
    if (!(await needed(base, debianRecipe(base)))) continue;
    await buildDebianBase(docker, log, base);
    log(`built ${base}`);
  }
  const nodeBases = Object.keys(NODE_BASE_PACKAGES);
  const missingNodeBases: string[] = [];
  for (const base of nodeBases) if (await needed(base, nodeBaseRecipe(base))) missingNodeBases.push(base);
  if (missingNodeBases.length) {
    log(`installing the Node binaries of ${missingNodeBases.join(', ')} from the npm registry`);
    const binaries = await stageFolder(join(RUNTIMES_DIR, 'bases'));
    try {
      for (const base of missingNodeBases) {
        await buildNodeBase(docker, base, binaries);
        log(`built ${base}`);
      }
    } finally {
      rmSync(binaries, { recursive: true, force: true });
    }
  }
  for (const runtime of RUNTIME_IMAGES) {
    const folder = join(RUNTIMES_DIR, runtime.folder);
    const recipe = hashOf(folderHash(folder), baseRecipe(runtime.localBase));
    if (!(await needed(runtime.image, recipe))) continue;
    const staged = await stageFolder(folder);
    try {
      await buildFromFolder(docker, staged, runtime.image, { BASE: runtime.localBase }, recipe);
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
    log(`built ${runtime.image}`);
  }
}
