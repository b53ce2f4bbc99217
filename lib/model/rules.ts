import { z } from 'zod';
import { commonPutFields, type EntityDocument } from './common';

export const rulePutSchema = z.object({
  ...commonPutFields,
  trigger: z.string().optional(),
  action: z.string().optional(),
  status: z.enum(['active', 'inactive', '']).optional(),
});

export type RulePut = z.infer<typeof rulePutSchema>;

export const ruleStatusSchema = z.object({ status: z.enum(['active', 'inactive']) });

/** `path` is the namespace (or `ns/pkg` for actions in packages). */
export interface EntityName {
  path: string;
  name: string;
}

export interface RuleDoc extends EntityDocument {
  trigger: EntityName;
  action: EntityName;
}
