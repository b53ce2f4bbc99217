import { join } from 'node:path';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RUNTIME_IMAGES } from '../../lib/images/build';
import { RUNTIME_KINDS } from '../../lib/model/runtimes';

/** CPU architecture of the images and of the machines that run them. */
export type ImageArchitecture = 'arm64' | 'x86_64';

const REPOSITORY_ROOT = join(__dirname, '..', '..');

export interface RuntimeImagesProps {
  /**
   * Architecture the images are built for; it must be the invokers' architecture.
   * @default 'arm64'
   */
  readonly architecture?: ImageArchitecture;
  /**
   * Whether to build the action runtime images. Only ec2-mode invokers run them (fargate invokers
   * run the runtimes as processes inside the invoker image), so a fargate deployment leaves them out.
   * @default true
   */
  readonly actionRuntimes?: boolean;
}

/**
 * The deployment's container images, as CDK Docker image assets: built by the CDK CLI at deploy
 * time (never at synth) and pushed to the bootstrap ECR repository.
 * - One runtime image per exec kind (runtimes/<folder>/Dockerfile), which ec2-mode invokers pull
 *   through their task role and run with the docker factory.
 * - The invoker image (infra/invoker.Dockerfile, the repository root as context), which serves
 *   both fleet modes.
 */
export class RuntimeImages extends Construct {
  public readonly architecture: ImageArchitecture;
  /** The runtime image of each exec kind (`nodejs:20`, `python:3.11`, ...). */
  public readonly runtimeImages: Readonly<Record<string, DockerImageAsset>>;
  /** The invoker's image. */
  public readonly invokerImage: DockerImageAsset;
  /**
   * Exec kind → image URI (deploy-time tokens): the value of the invoker's
   * `SKYWHISK_RUNTIME_IMAGES` (lib/model/runtimes.ts), once rendered with `Stack.toJsonString`.
   */
  public readonly manifest: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: RuntimeImagesProps = {}) {
    super(scope, id);
    this.architecture = props.architecture ?? 'arm64';
    const platform = this.architecture === 'arm64' ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64;

    const byImage = new Map<string, DockerImageAsset>();
    const runtimeImages: Record<string, DockerImageAsset> = {};
    for (const runtime of props.actionRuntimes === false ? [] : RUNTIME_KINDS) {
      const recipe = RUNTIME_IMAGES.find((image) => image.image === runtime.image);
      if (!recipe) throw new Error(`RuntimeImages: kind '${runtime.kind}' names image '${runtime.image}', which no runtimes/ folder builds (lib/images/build.ts).`);
      let asset = byImage.get(recipe.image);
      if (!asset) {
        asset = new DockerImageAsset(this, `Runtime-${recipe.image.replace(/^.*\/action-/, '')}`, {
          directory: join(REPOSITORY_ROOT, 'runtimes', recipe.folder),
          platform,
          buildArgs: { BASE: recipe.publicBase },
          // What `npm ci` left in the checkout is not the image's: its Dockerfile installs the libraries.
          exclude: ['node_modules'],
          displayName: `Skywhisk ${runtime.kind} action runtime`,
        });
        byImage.set(recipe.image, asset);
      }
      runtimeImages[runtime.kind] = asset;
    }
    this.runtimeImages = runtimeImages;
    this.manifest = Object.fromEntries(Object.entries(runtimeImages).map(([kind, asset]) => [kind, asset.imageUri]));

    // The context is the repository root; the root .dockerignore keeps only what the Dockerfile
    // copies. The exclusions repeat the large folders so the fingerprint never walks them.
    this.invokerImage = new DockerImageAsset(this, 'Invoker', {
      directory: REPOSITORY_ROOT,
      file: 'infra/invoker.Dockerfile',
      platform,
      exclude: ['node_modules', 'cdk.out', '.git', '.skywhisk', 'test', 'bench', 'coverage', 'dist'],
      displayName: 'Skywhisk invoker',
    });
  }

  /** Lets `grantee` pull every runtime image from ECR (and get the ECR login token). */
  public grantPull(grantee: IGrantable): void {
    for (const asset of new Set(Object.values(this.runtimeImages))) asset.repository.grantPull(grantee);
  }
}
