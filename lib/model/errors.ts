/** An error answered in OpenWhisk's shape: `{"error": message, "code": transaction id}`. */
export class WhiskError extends Error {
  override name = 'WhiskError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 406 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

export const Messages = {
  notFound: 'The requested resource does not exist.',
  notAuthorized: 'The supplied authentication is not authorized to access this resource.',
  authMissing: 'The resource requires authentication, which was not supplied with the request',
  authInvalid: 'The supplied authentication is invalid',
  exists: 'resource already exists',
  /** A name taken by an entity of another collection (an action and a package named alike). */
  otherCollection: 'Resource by this name exists but is not in this collection.',
  concurrentUpdate: 'Concurrent modification to resource detected',
  malformed: 'The request content was malformed',
  tooLarge: 'The request content exceeds the maximum allowed size.',
  invalidActivationId: 'The activation id is not valid.',
  internal: 'An internal error occurred.',
  badTimeout: 'Timeout must be number of milliseconds up to 60000.',
  finalParams: 'Request defines parameters that are not allowed (e.g., reserved properties).',
  bindingOperation: 'Operation not permitted on package binding.',
  sequenceSelf: 'Sequence may not refer to itself.',
  sequenceComponentMissing: 'Sequence component does not exist.',
  sequenceTooLong: 'Too many actions in the sequence.',
  compositionTooLong: 'Too many actions in the composition.',
} as const;

/** OpenWhisk's throttle messages (429). */
export const ThrottleMessages = {
  perMinute: (count: number, allowed: number) => `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  concurrent: (count: number, allowed: number) => `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
};
