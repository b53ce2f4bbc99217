import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemPackage } from '../catalog/system-packages';
import type { KeyValue, Parameter } from '../model/entity';

export const ALARMS_PACKAGE_NAME = 'alarms';
export const FEED_ACTION_KIND = 'nodejs:22';

export interface AlarmsPackage extends SystemPackage {
  /** The package entity of `/whisk.system/alarms` (also spread at the top level for installSystemPackage). */
  package: { name: string; publish: true; annotations: KeyValue[]; parameters: Parameter[] };
  actions: Array<{ name: string; exec: { kind: string; code: string }; annotations: KeyValue[]; parameters: Parameter[] }>;
}

/** The source of the feed actions (all three share it; the feed is told by the action's name). */
export function feedActionCode(): string {
  return readFileSync(join(__dirname, 'feed-action.js'), 'utf8');
}

function parametersAnnotation(parameters: Array<{ name: string; required: boolean; description: string }>): KeyValue {
  return { key: 'parameters', value: parameters };
}

/**
 * `/whisk.system/alarms`, as openwhisk-package-alarms installs it (installCatalog.sh): a published
 * package and its feeds `alarm`, `interval` and `once`, annotated `feed: true`. The result fits
 * `installSystemPackage(entities, alarmsPackage())`.
 */
export function alarmsPackage(): AlarmsPackage {
  const code = feedActionCode();
  const annotations: KeyValue[] = [
    { key: 'description', value: 'Alarms and periodic utility' },
    parametersAnnotation([{ name: 'trigger_payload', required: false, description: 'The content of the trigger event on every fire' }]),
  ];
  const payload = { name: 'trigger_payload', required: false, description: 'The content of the trigger event on every fire (an object, or a JSON string)' };
  const startDate = { name: 'startDate', required: false, description: 'When the schedule starts (ISO 8601 or epoch milliseconds)' };
  const stopDate = { name: 'stopDate', required: false, description: 'When the schedule stops (ISO 8601 or epoch milliseconds)' };
  const feed = (name: string, description: string, parameters: Array<{ name: string; required: boolean; description: string }>) => ({
    name,
    exec: { kind: FEED_ACTION_KIND, code },
    annotations: [{ key: 'feed', value: true }, { key: 'description', value: description }, parametersAnnotation(parameters)],
    parameters: [] as Parameter[],
  });
  const actions = [
    feed('alarm', 'Fire trigger when alarm occurs', [
      { name: 'cron', required: true, description: 'A cron pattern of 5 fields (minute first) or 6 (seconds first), in UTC unless timezone is given' },
      { name: 'timezone', required: false, description: 'An IANA time zone the cron pattern is read in' },
      startDate,
      stopDate,
      { name: 'strict', required: false, description: 'Accepted for compatibility; fires are always at the top of the minute' },
      payload,
    ]),
    feed('interval', 'Fire trigger at specified interval', [
      { name: 'minutes', required: true, description: 'The interval between fires, in minutes (a whole number above 0)' },
      { ...startDate, description: 'The first fire (default: 30 seconds after creation)' },
      stopDate,
      payload,
    ]),
    feed('once', 'Fire trigger once when alarm occurs', [
      { name: 'date', required: true, description: 'When to fire (ISO 8601 or epoch milliseconds), in the future' },
      { name: 'deleteAfterFire', required: false, description: "After the fire: 'false' (keep), 'true' (delete the trigger) or 'rules' (delete the trigger and its rules)" },
      payload,
    ]),
  ];
  return {
    name: ALARMS_PACKAGE_NAME,
    annotations,
    parameters: [],
    package: { name: ALARMS_PACKAGE_NAME, publish: true, annotations, parameters: [] },
    actions,
  };
}
