import { Api, ApiError } from './api';

export type LifecycleEvent = 'CREATE' | 'READ' | 'UPDATE' | 'DELETE' | 'PAUSE' | 'UNPAUSE';

interface Activation {
  activationId?: string;
  response?: { success?: boolean; status?: string; result?: { error?: unknown } };
}

/** A feed invocation that did not succeed: the HTTP error, or the failed activation's error. */
export class FeedError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

function describeError(error: unknown): string {
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/**
 * Invokes a feed action the way wsk does (blocking, whole record): `{lifecycleEvent, triggerName,
 * authKey, ...params}`. Resolves to the activation id; a failed request or activation is a FeedError.
 */
export async function invokeFeed(api: Api, feed: string, event: LifecycleEvent, triggerName: string, params: Record<string, unknown> = {}): Promise<string | undefined> {
  let record: Activation;
  try {
    const { body } = await api.request('POST', api.entityPath('actions', feed), {
      query: { blocking: true, result: false },
      body: { ...params, lifecycleEvent: event, triggerName, authKey: api.authKey },
      acceptActionErrors: true,
    });
    record = (body ?? {}) as Activation;
  } catch (error) {
    if (error instanceof ApiError) throw new FeedError(`${error.message} (${error.status})`, error.status);
    throw error;
  }
  // 202 (the feed outlived the blocking wait) has no response yet; like wsk, that is not a failure.
  if (record.response && record.response.success !== true) {
    const { result, status } = record.response;
    throw new FeedError(result?.error !== undefined ? describeError(result.error) : `the feed's activation ended with '${status}'`);
  }
  return record.activationId;
}
