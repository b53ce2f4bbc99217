import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/controller/app';
import { depsFromEnv } from '../../lib/controller/deps';
import { loadDispatchSecret } from '../../lib/controller/dispatch-secret';

type Handler = ReturnType<typeof handle>;

/** The app, once a cold start has read the dispatch secret (if the stack dispatches directly). */
const ready: Promise<Handler> = loadDispatchSecret(process.env).then(() => handle(createApp(depsFromEnv())));

/** The controller Lambda behind API Gateway's REST proxy integration: the same app as `npm start`. */
export const handler = async (...args: Parameters<Handler>): Promise<Awaited<ReturnType<Handler>>> => (await ready)(...args);
