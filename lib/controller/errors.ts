/** Errors in OpenWhisk's shape live in the model, so the invoker's composition code can raise them too. */
export { Messages, WhiskError } from '../model/errors';
