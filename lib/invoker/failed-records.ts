import { z } from 'zod';
import { ACTIVATION_ID } from '../model/activation-id';
import { activationResponse, recordEnvelope, type ActivationMessage, type ActivationRecord } from '../model/activation';
import { isValidEntityName } from '../model/names';

/** A whisk internal error record for an activation the invoker could not run. */
export function failedRecord(message: ActivationMessage, start: number, error: string, blame: 'whisk' | 'developer' = 'whisk'): ActivationRecord {
  const end = Math.max(start, Date.now());
  return {
    ...recordEnvelope(message, message.action.path.split('/').pop()!, '0.0.0'),
    start,
    end,
    duration: end - start,
    response: activationResponse(blame === 'developer' ? 'developerError' : 'whiskError', { error }),
    logs: [],
    annotations: [{ key: 'path', value: `${message.action.namespace}/${message.action.path}` }],
  };
}

export const ABANDONED_ERROR = 'The invoker running this activation stopped before it finished; it was not run again.';
export const DEAD_LETTER_ERROR = 'The activation message could not be processed and was moved to the dead-letter queue; it was not run.';

/**
 * What can be read of a message that failed to parse: enough to record its activation (an id and
 * a valid namespace), the rest filled in where it is missing or malformed.
 */
const deadLetterSchema = z.object({
  activationId: z.string().regex(ACTIVATION_ID),
  namespace: z.string().refine(isValidEntityName),
  subject: z.string().max(256).catch('unknown'),
  transactionId: z.string().max(256).catch(''),
  action: z.object({ namespace: z.string().max(256), path: z.string().max(1024), revision: z.string().max(256) }).catch({ namespace: '', path: 'unknown', revision: '' }),
  acceptedAt: z.number().catch(0),
  cause: z.string().regex(ACTIVATION_ID).optional().catch(undefined),
});

/** The activation a dead-lettered message stood for, when it names one. */
export function deadLetterActivation(body: string): ActivationMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = deadLetterSchema.safeParse(json);
  if (!parsed.success) return undefined;
  return { ...parsed.data, params: {}, blocking: false };
}
