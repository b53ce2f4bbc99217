import { z } from 'zod';
import type { Parameter } from './entity';
import { commonPutFields, parametersField, type EntityDocument } from './common';

export const triggerPutSchema = z.object({
  ...commonPutFields,
  parameters: parametersField,
  limits: z.object({}).optional(),
});

export type TriggerPut = z.infer<typeof triggerPutSchema>;

export type RuleStatus = 'active' | 'inactive';

/** Where a rule sends a trigger's events: `path` is `ns` or `ns/pkg`. */
export interface RuleTarget {
  action: { path: string; name: string };
  status: RuleStatus;
}

/** A trigger. Its `rules` map (rule `ns/name` -> target and status) is where rule status lives, as in OpenWhisk. */
export interface TriggerDoc extends EntityDocument {
  parameters: Parameter[];
  limits: Record<string, never>;
  rules?: Record<string, RuleTarget>;
}
