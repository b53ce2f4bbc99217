import type { StreamifyHandler } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/controller/app';
import { streamedResult } from '../../lib/controller/lambda-stream';
import { depsFromEnv } from '../../lib/controller/deps';
import { loadDispatchSecret } from '../../lib/controller/dispatch-secret';

type BufferedHandler = ReturnType<typeof handle>;
type StreamingHandler = StreamifyHandler<unknown, void>;

/** The app, once a cold start has read the dispatch secret (if the stack dispatches directly); made again after a failure. */
let ready: Promise<ReturnType<typeof createApp>> | undefined;

function app(): Promise<ReturnType<typeof createApp>> {
  ready ??= loadDispatchSecret(process.env)
    .then(() => createApp(depsFromEnv()))
    .catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
  return ready;
}

// Started at load, as module initialisation was before.
void app().catch(() => undefined);

let buffered: Promise<BufferedHandler> | undefined;

/**
 * The controller behind API Gateway's REST proxy integration in STREAM mode: the same app as `npm
 * start`, its whole answer sent as a stream, so that a blocking invoke may wait OpenWhisk's 60 s
 * (a buffered integration ends at 29 s). Lambda's runtime marks it as a streaming handler at load.
 */
// The AWS SDK makes an empty `awslambda` of its own where the runtime gave none: ask for the decorator.
export const handler: StreamingHandler =
  typeof globalThis.awslambda?.streamifyResponse === 'function'
    ? awslambda.streamifyResponse(async (event, responseStream, context) => {
        const { head, body } = streamedResult(await bufferedHandler(event as Parameters<BufferedHandler>[0], context));
        awslambda.HttpResponseStream.from(responseStream, { ...head }).end(body);
      })
    : async () => {
        throw new Error("The streaming handler needs Lambda's Node runtime (its `awslambda` global); use bufferedHandler elsewhere.");
      };

/** The same app for a BUFFERED integration (and for tests that call it as a function). */
export const bufferedHandler = async (...args: Parameters<BufferedHandler>): Promise<Awaited<ReturnType<BufferedHandler>>> => {
  buffered ??= app().then(
    (made) => handle(made),
    (error: unknown) => {
      buffered = undefined;
      throw error;
    },
  );
  return (await buffered)(...args);
};
