import { z } from 'zod';
import type { KeyValue } from './entity';
import { isJsonObject } from './json-object';
import type { ActionLimits } from './limits';

/** OpenWhisk's result taxonomy; the number is the internal statusCode. */
export const ActivationStatus = {
  success: { statusCode: 0, status: 'success' },
  applicationError: { statusCode: 1, status: 'application error' },
  developerError: { statusCode: 2, status: 'action developer error' },
  whiskError: { statusCode: 3, status: 'whisk internal error' },
} as const;

export type ActivationStatusName = keyof typeof ActivationStatus;

export interface ActivationResponse {
  status: string;
  statusCode: number;
  success: boolean;
  result?: unknown;
  size?: number;
}

/** A finished activation as stored and served (statusCode is hidden from full records). */
export interface ActivationRecord {
  activationId: string;
  namespace: string;
  name: string;
  version: string;
  subject: string;
  publish: boolean;
  start: number;
  /** Absent on trigger activations, as in OpenWhisk. */
  end?: number;
  duration?: number;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
  cause?: string;
}

export function activationResponse(name: ActivationStatusName, result: unknown): ActivationResponse {
  const { status, statusCode } = ActivationStatus[name];
  const response: ActivationResponse = { status, statusCode, success: statusCode === 0, result };
  if (result !== undefined) response.size = Buffer.byteLength(JSON.stringify(result));
  return response;
}

/** The invocation message the controller puts on the bus for an invoker. */
export const activationMessageSchema = z.object({
  activationId: z.string().regex(/^[0-9a-f]{32}$/),
  transactionId: z.string(),
  /** Namespace of the invoking identity: it owns the activation record. */
  namespace: z.string(),
  subject: z.string(),
  action: z.object({
    namespace: z.string(),
    path: z.string(),
    revision: z.string(),
  }),
  // Not z.record: it rebuilds the object and drops a `__proto__` key; this keeps the object as parsed.
  params: z.custom<Record<string, unknown>>(isJsonObject, 'params must be a JSON object'),
  blocking: z.boolean(),
  /** Epoch ms when the controller accepted the request (waitTime starts here). */
  acceptedAt: z.number(),
  /** Present only when the action's `provide-api-key` annotation is truthy. */
  apiKey: z.string().optional(),
  /** The activation that caused this one: a trigger fire, a sequence, or a conductor. */
  cause: z.string().optional(),
  /** `sequence` on the components of a sequence or conductor (the `causedBy` annotation). */
  causedBy: z.literal('sequence').optional(),
  /** Run a conductor action's own code instead of its composition (one conductor step). */
  conductorStep: z.boolean().optional(),
  /** `ns/binding` when the action was reached through a package binding. */
  binding: z.string().optional(),
});

export type ActivationMessage = z.infer<typeof activationMessageSchema>;

export function recordLimits(limits: ActionLimits): ActionLimits {
  const { timeout, memory, logs, concurrency, instances } = limits;
  return { timeout, memory, logs, concurrency, ...(instances !== undefined ? { instances } : {}) };
}

/** The fields every record of the activation `message` describes shares, whoever writes it. */
export function recordEnvelope(
  message: ActivationMessage,
  name: string,
  version: string,
): Pick<ActivationRecord, 'activationId' | 'namespace' | 'name' | 'version' | 'subject' | 'publish' | 'cause'> {
  return {
    activationId: message.activationId,
    namespace: message.namespace,
    name,
    version,
    subject: message.subject,
    publish: false,
    ...(message.cause ? { cause: message.cause } : {}),
  };
}
