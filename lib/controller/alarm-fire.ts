import type { Logger } from 'pino';
import type { AlarmFireCallback, AlarmScheduler } from '../alarms/scheduler';
import type { RuleDoc } from '../model/rules';
import type { TriggerDoc } from '../model/triggers';
import type { ControllerDeps } from './context';
import { fireTrigger } from './fire';
import { newTransactionId } from './invoke';

/**
 * What an alarm does when it is due: fire its trigger as the subject that created the alarm, then
 * (for a once alarm with deleteAfterFire) delete the trigger, and with 'rules' its rules too.
 * An alarm whose trigger or owner is gone is removed.
 */
export function alarmFireCallback(deps: ControllerDeps, alarms: AlarmScheduler, log: Logger): AlarmFireCallback {
  return async (alarm, context) => {
    const { triggerNamespace: namespace, triggerName: name } = alarm;
    const [trigger, identity] = await Promise.all([deps.entities.get<TriggerDoc>(namespace, 'triggers', name), deps.subjects.byUuid(alarm.ownerUuid)]);
    if (!trigger || !identity || identity.namespace !== namespace) {
      log.info({ trigger: `/${namespace}/${name}` }, 'alarm without its trigger or owner; removed');
      await alarms.delete(namespace, name);
      return;
    }
    const activationId = await fireTrigger(deps, { identity, transactionId: newTransactionId(), trigger: trigger.doc, payload: alarm.payload });
    log.info({ trigger: `/${namespace}/${name}`, activationId }, 'alarm fired');
    if (context.deleteAfterFire === 'false') return;
    if (context.deleteAfterFire === 'rules') {
      for (const ruleKey of Object.keys(trigger.doc.rules ?? {})) {
        const ruleName = ruleKey.slice(namespace.length + 1);
        const rule = await deps.entities.get<RuleDoc>(namespace, 'rules', ruleName);
        if (rule) await deps.entities.delete(namespace, 'rules', ruleName, rule.revision);
      }
    }
    await deps.entities.delete(namespace, 'triggers', name, trigger.revision);
  };
}
