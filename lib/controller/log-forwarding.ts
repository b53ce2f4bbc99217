import type { Hono } from 'hono';
import { cappedBody } from './body-limit';
import { z } from 'zod';
import { basicAuth } from './auth';
import type { ControllerDeps, ControllerEnv } from './context';
import { WhiskError } from './errors';
import { parsedBody, resolveNamespace } from './request';

/** Adobe I/O Runtime's name for its own log store: logs stay with the platform. */
const KEPT_BY_THE_PLATFORM = 'adobe_io_runtime';

const settingsSchema = z.record(z.string(), z.unknown()).refine((settings) => Object.keys(settings).length === 1, 'name exactly one destination');

/**
 * Adobe I/O Runtime's log forwarding settings, `/runtime/namespaces/<ns>/logForwarding`, which aio's
 * `activation logs` reads before it prints anything (a 404 there fails every form of the command).
 * Skywhisk keeps an activation's logs in its record, so the one destination is Adobe's default,
 * `adobe_io_runtime`; setting it is accepted, and any other destination is refused.
 */
export function registerLogForwardingRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  const smallBody = cappedBody(64 * 1024);
  // `/x/*` matches `/x` too.
  app.use('/runtime/namespaces/:ns/logForwarding/*', basicAuth(deps.subjects), smallBody);
  app.get('/runtime/namespaces/:ns/logForwarding', (c) => {
    resolveNamespace(c);
    return c.json({ [KEPT_BY_THE_PLATFORM]: {} });
  });
  app.get('/runtime/namespaces/:ns/logForwarding/errors', (c) => {
    resolveNamespace(c);
    return c.json({ destination: KEPT_BY_THE_PLATFORM, errors: [] });
  });
  app.put('/runtime/namespaces/:ns/logForwarding', async (c) => {
    resolveNamespace(c);
    const [destination] = Object.keys(await parsedBody(c, settingsSchema));
    if (destination !== KEPT_BY_THE_PLATFORM) {
      throw new WhiskError(400, `Log forwarding to '${destination}' is not supported: activation logs stay in the activation records ('${KEPT_BY_THE_PLATFORM}').`);
    }
    return c.json({ [KEPT_BY_THE_PLATFORM]: {} });
  });
}
