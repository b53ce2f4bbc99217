import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { AlarmExistsError, type Alarm, type AlarmScheduler } from '../alarms/scheduler';
import { AlarmMessages, isAlarmFeed, parseAlarmParams, updateAlarmParams, type AlarmParseResult } from '../alarms/spec';
import { isValidEntityName } from '../model/names';
import type { ControllerEnv } from './context';
import { Messages, WhiskError } from './errors';
import { booleanParam, jsonObjectBody, parsedBody, resolveNamespace } from './request';

type Ctx = Context<ControllerEnv>;

export interface AlarmRouteOptions {
  /** Refuse crons with a seconds field (as EventBridge Scheduler would). Default: allowed. */
  limitCronFields?: boolean;
}

const statusBodySchema = z.object({ status: z.enum(['active', 'paused']) });

function triggerParam(c: Ctx): string {
  const raw = c.req.param('trigger') ?? '';
  if (!isValidEntityName(raw)) throw new WhiskError(400, `The name '${raw}' of the trigger is not valid.`);
  return raw;
}

function parsed(result: AlarmParseResult): Extract<AlarmParseResult, { success: true }> {
  if (!result.success) throw new WhiskError(400, result.error);
  return result;
}

/**
 * The alarms provider API the `/whisk.system/alarms` feed actions call, under the caller's own
 * namespace (`_` or its name; another is a 403), behind the controller's basic auth:
 *
 * - `PUT /namespaces/:ns/alarms/:trigger` body `{feed, ...feed parameters}`: a new alarm (CREATE);
 *   400 with the package's message on bad parameters, 404 when the trigger does not exist, 409 when
 *   it has an alarm already. With `?overwrite=true` (UPDATE) an existing alarm takes the given
 *   parameters only, as the package's update does (at least one updatable parameter; `feed`, if
 *   given, must be the alarm's). Answers the stored alarm.
 * - `GET /namespaces/:ns/alarms/:trigger`: the stored alarm (READ), 404 when none.
 * - `POST /namespaces/:ns/alarms/:trigger` body `{status: 'active'|'paused'}` (PAUSE/UNPAUSE):
 *   the stored alarm after the change, 404 when none.
 * - `DELETE /namespaces/:ns/alarms/:trigger`: the alarm deleted, 404 when none. The trigger
 *   itself need not exist any more.
 */
export function registerAlarmRoutes(
  api: Hono<ControllerEnv>,
  alarms: AlarmScheduler,
  triggerExists: (namespace: string, name: string) => Promise<boolean>,
  options: AlarmRouteOptions = {},
): void {
  const path = '/namespaces/:ns/alarms/:trigger';

  async function requireTrigger(namespace: string, trigger: string): Promise<void> {
    if (!(await triggerExists(namespace, trigger))) throw new WhiskError(404, `The trigger '/${namespace}/${trigger}' does not exist.`);
  }

  api.put(path, async (c) => {
    const namespace = resolveNamespace(c);
    const trigger = triggerParam(c);
    const overwrite = booleanParam(c, 'overwrite', false);
    const params = await jsonObjectBody(c);
    if (!isAlarmFeed(params.feed)) throw new WhiskError(400, AlarmMessages.feed);
    const parseOptions = { now: Date.now(), limitCronFields: options.limitCronFields ?? false };
    const existing = await alarms.get(namespace, trigger);

    if (existing && overwrite) {
      const { spec, payload } = parsed(updateAlarmParams(existing, params, parseOptions));
      await requireTrigger(namespace, trigger);
      const alarm: Alarm = { ...existing, spec, payload, status: 'active', updated: Math.max(Date.now(), existing.updated + 1) };
      if (!(await alarms.update(alarm))) throw new WhiskError(409, Messages.concurrentUpdate);
    } else {
      const { spec, payload } = parsed(parseAlarmParams(params, parseOptions));
      await requireTrigger(namespace, trigger);
      if (existing) throw new WhiskError(409, Messages.exists);
      const now = Date.now();
      const alarm: Alarm = { triggerNamespace: namespace, triggerName: trigger, ownerUuid: c.get('identity').uuid, spec, payload, status: 'active', created: now, updated: now };
      try {
        await alarms.create(alarm);
      } catch (error) {
        if (error instanceof AlarmExistsError) throw new WhiskError(409, Messages.exists);
        throw error;
      }
    }
    const stored = await alarms.get(namespace, trigger);
    if (!stored) throw new WhiskError(409, Messages.concurrentUpdate);
    return c.json(stored);
  });

  api.get(path, async (c) => {
    const namespace = resolveNamespace(c);
    const alarm = await alarms.get(namespace, triggerParam(c));
    if (!alarm) throw new WhiskError(404, Messages.notFound);
    return c.json(alarm);
  });

  api.post(path, async (c) => {
    const namespace = resolveNamespace(c);
    const trigger = triggerParam(c);
    const { status } = await parsedBody(c, statusBodySchema);
    const alarm = await alarms.setStatus(namespace, trigger, status);
    if (!alarm) throw new WhiskError(404, Messages.notFound);
    return c.json(alarm);
  });

  api.delete(path, async (c) => {
    const namespace = resolveNamespace(c);
    const trigger = triggerParam(c);
    const alarm = await alarms.get(namespace, trigger);
    if (!alarm || !(await alarms.delete(namespace, trigger))) throw new WhiskError(404, Messages.notFound);
    return c.json(alarm);
  });
}
