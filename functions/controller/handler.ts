import { handle } from 'hono/aws-lambda';
import { createApp } from '../../lib/controller/app';
import { depsFromEnv } from '../../lib/controller/deps';

/** The controller Lambda behind API Gateway's REST proxy integration: the same app as `npm start`. */
export const handler = handle(createApp(depsFromEnv()));
