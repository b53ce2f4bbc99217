import { RemovalPolicy } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseActionLimitRanges } from '../lib/model/limits';
import { checkedRuntimesManifest } from './runtimes-manifest';

/**
 * The deployment's settings, from CDK context (`cdk.json` or `-c key=value`), validated before any
 * construct is built so a typo fails with its name instead of a half-made template.
 */
const contextSchema = z.object({
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a letter, then letters, digits or hyphens').default('Skywhisk'),
  /** Region to deploy to; else the CLI's (AWS_REGION / profile), as CDK resolves it. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').optional(),
  /** Where the stack goes: AWS, or a LocalStack (`npm run deploy:local` sets `-c target=localstack`). */
  target: z.enum(['aws', 'localstack']).default('aws'),
  /** LocalStack's edge as clients outside it reach it (the API host printed and given to actions). */
  localstackEdge: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'a host, or host:port, such as localhost.localstack.cloud:4566').default('localhost.localstack.cloud:4566'),
  /** ec2 by default on AWS; fargate on LocalStack, which runs no container instances. */
  invokerMode: z.enum(['ec2', 'fargate']).optional(),
  minInvokers: z.coerce.number().int().min(0).default(0),
  maxInvokers: z.coerce.number().int().min(1).default(4),
  /** ec2 mode: the container instances' type (must match `architecture`). */
  instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'an EC2 instance type such as t4g.large').optional(),
  architecture: z.enum(['arm64', 'x86_64']).default('arm64'),
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  /** Executions reserved for the controller, and its most; unset by default (new accounts' quota of 10 leaves none to reserve). */
  controllerConcurrency: z.coerce.number().int().min(1).optional(),
  /** Blocking invokes straight to invokers (the controller in the VPC, with endpoints): `-c directDispatch=true`. */
  directDispatch: z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]).default(false),
  /** A runtimes manifest in OpenWhisk's runtimes.json format: `-c runtimes=path/to/runtimes.json`. */
  runtimes: z.string().min(1, 'a path to a runtimes.json').optional(),
  /** Action limit ranges as JSON, OpenWhisk's by default: `-c actionLimits='{"memory":{"max":4096}}'`. */
  actionLimits: z
    .string()
    .optional()
    .superRefine((raw, context) => {
      try {
        parseActionLimitRanges(raw, 'the value');
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }),
});

export type DeploymentContext = Omit<z.infer<typeof contextSchema>, 'removalPolicy' | 'runtimes' | 'invokerMode' | 'localstackEdge'> & {
  invokerMode: 'ec2' | 'fargate';
  /** Set for a LocalStack target only. */
  localstackEdge?: string;
  removalPolicy: RemovalPolicy;
  /** The text of the runtimes manifest `runtimes` names, checked. */
  runtimesManifest?: string;
};

export function deploymentContext(read: (key: string) => unknown): DeploymentContext {
  const raw = Object.fromEntries(Object.keys(contextSchema.shape).map((key) => [key, read(key)]).filter(([, value]) => value !== undefined));
  const parsed = contextSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `-c ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid Skywhisk context:\n${problems.join('\n')}`);
  }
  if (parsed.data.minInvokers > parsed.data.maxInvokers) throw new Error(`Invalid Skywhisk context: minInvokers (${parsed.data.minInvokers}) is above maxInvokers (${parsed.data.maxInvokers}).`);
  const { runtimes, localstackEdge, invokerMode, ...settings } = parsed.data;
  return {
    ...settings,
    invokerMode: invokerMode ?? (settings.target === 'localstack' ? 'fargate' : 'ec2'),
    ...(settings.target === 'localstack' ? { localstackEdge } : {}),
    removalPolicy: settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...(runtimes ? { runtimesManifest: readManifest(runtimes) } : {}),
  };
}

function readManifest(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`Invalid Skywhisk context:\n-c runtimes: cannot read '${path}' (${(error as Error).message})`, { cause: error });
  }
  try {
    checkedRuntimesManifest(text, `-c runtimes (${path})`);
  } catch (error) {
    throw new Error(`Invalid Skywhisk context:\n${(error as Error).message}`, { cause: error });
  }
  return text;
}
