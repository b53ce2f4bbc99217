import type { Hono } from 'hono';
import { isActivationId } from '../model/activation-id';
import type { ActivationRecord } from '../model/activation';
import { parseEntityPath } from '../model/names';
import type { ControllerDeps, ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { booleanParam, countAfterSkip, listParams, optionalIntegerParam, resolveNamespace } from './request';

/** A full record as OpenWhisk serves it: the internal statusCode is not shown. */
export function publicRecord(record: ActivationRecord): object {
  const { statusCode: _statusCode, ...response } = record.response;
  return { ...record, response };
}

function brief(record: ActivationRecord): object {
  return {
    activationId: record.activationId,
    namespace: record.namespace,
    name: record.name,
    version: record.version,
    publish: record.publish,
    start: record.start,
    end: record.end,
    duration: record.duration,
    statusCode: record.response.statusCode,
    annotations: record.annotations,
    ...(record.cause ? { cause: record.cause } : {}),
  };
}

export function registerActivationRoutes(app: Hono<ControllerEnv>, deps: ControllerDeps): void {
  app.get('/namespaces/:ns/activations', async (c) => {
    const namespace = resolveNamespace(c);
    const { limit, skip, count } = listParams(c, 'activations');
    const docs = booleanParam(c, 'docs', false);
    if (count && docs) throw new WhiskError(400, "The parameter 'docs' is not permitted with 'count'.");
    const rawName = c.req.query('name');
    if (rawName !== undefined && !parseEntityPath(rawName)) throw new WhiskError(400, `The name '${rawName}' is not valid.`);
    const since = optionalIntegerParam(c, 'since');
    const upto = optionalIntegerParam(c, 'upto');
    const filter = { name: rawName, since, upto };
    if (count) return c.json({ activations: countAfterSkip(await deps.activations.count(namespace, filter), skip) });
    const records = await deps.activations.list(namespace, { ...filter, limit, skip });
    return c.json(records.map(docs ? publicRecord : brief));
  });

  async function load(ns: string, id: string): Promise<ActivationRecord> {
    if (id.length !== 32) throw new WhiskError(400, `Activation id length is ${id.length} but must be 32.`);
    if (!isActivationId(id)) throw new WhiskError(400, Messages.invalidActivationId);
    const record = await deps.activations.get(ns, id);
    if (!record) throw new WhiskError(404, Messages.notFound);
    return record;
  }

  app.get('/namespaces/:ns/activations/:id', async (c) => {
    return c.json(publicRecord(await load(resolveNamespace(c), c.req.param('id'))));
  });

  app.get('/namespaces/:ns/activations/:id/logs', async (c) => {
    return c.json({ logs: (await load(resolveNamespace(c), c.req.param('id'))).logs });
  });

  app.get('/namespaces/:ns/activations/:id/result', async (c) => {
    const { statusCode: _statusCode, ...response } = (await load(resolveNamespace(c), c.req.param('id'))).response;
    return c.json(response);
  });
}
