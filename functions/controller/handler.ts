import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/controller/app';
import { depsFromEnv } from '../../lib/controller/deps';
import { loadDispatchSecret } from '../../lib/controller/dispatch-secret';

type Handler = ReturnType<typeof handle>;

/** The app, once a cold start has read the dispatch secret (if the stack dispatches directly); made again after a failure. */
let ready: Promise<Handler> | undefined;

function app(): Promise<Handler> {
  ready ??= loadDispatchSecret(process.env)
    .then(() => handle(createApp(depsFromEnv())))
    .catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
  return ready;
}

// Started at load, as module initialisation was before.
void app().catch(() => undefined);

/** The controller Lambda behind API Gateway's REST proxy integration: the same app as `npm start`. */
export const handler = async (...args: Parameters<Handler>): Promise<Awaited<ReturnType<Handler>>> => (await app())(...args);
