import { z } from 'zod';

/**
 * Where the platform's tables and queues are. Names come from the edge (CDK outputs in AWS, the
 * supervisor locally); endpoints come from the AWS SDK's own configuration (`AWS_ENDPOINT_URL`,
 * `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`), so the same code runs against AWS,
 * LocalStack or the embedded endpoint.
 */
const envSchema = z.object({
  SKYWHISK_SUBJECTS_TABLE: z.string().min(1).default('skywhisk-subjects'),
  SKYWHISK_ENTITIES_TABLE: z.string().min(1).default('skywhisk-entities'),
  SKYWHISK_ACTIVATIONS_TABLE: z.string().min(1).default('skywhisk-activations'),
  SKYWHISK_COORDINATION_TABLE: z.string().min(1).default('skywhisk-coordination'),
  SKYWHISK_INVOKE_QUEUE: z.string().min(1).default('skywhisk-invoke'),
  SKYWHISK_INVOKE_DLQ: z.string().min(1).default('skywhisk-invoke-dlq'),
  /** Days an activation record is kept before its TTL expires it. */
  SKYWHISK_ACTIVATION_RETENTION_DAYS: z.coerce.number().positive().default(7),
});

export interface PlatformConfig {
  tables: { subjects: string; entities: string; activations: string; coordination: string };
  queues: { invoke: string; invokeDeadLetter: string };
  activationRetentionDays: number;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const parsed = envSchema.parse(env);
  return {
    tables: {
      subjects: parsed.SKYWHISK_SUBJECTS_TABLE,
      entities: parsed.SKYWHISK_ENTITIES_TABLE,
      activations: parsed.SKYWHISK_ACTIVATIONS_TABLE,
      coordination: parsed.SKYWHISK_COORDINATION_TABLE,
    },
    queues: { invoke: parsed.SKYWHISK_INVOKE_QUEUE, invokeDeadLetter: parsed.SKYWHISK_INVOKE_DLQ },
    activationRetentionDays: parsed.SKYWHISK_ACTIVATION_RETENTION_DAYS,
  };
}
