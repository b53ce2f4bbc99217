/**
 * A CloudWatch alarm's state over time, computed from its synthesized CloudFormation properties and
 * synthetic metric series, so a test can drive the template's own alarm math. It covers what the
 * stack's alarms use: one math expression that sums metric ids, each bare or `FILL(id, n)`;
 * M-of-N evaluation; and TreatMissingData. A series is one value per minute, `undefined` where the
 * metric published nothing.
 */

export interface AlarmProperties {
  Metrics: Array<{ Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: unknown }>;
  Threshold: number;
  ComparisonOperator: 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanOrEqualToThreshold' | 'LessThanThreshold';
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  TreatMissingData?: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

export type Series = Record<string, Array<number | undefined>>;
export type AlarmState = 'OK' | 'ALARM';

/** The expression's value in each minute: missing where no term has data (FILL cannot invent a series). */
export function expressionValues(alarm: AlarmProperties, series: Series, minutes: number): Array<number | undefined> {
  const returned = alarm.Metrics.find((metric) => metric.ReturnData !== false && metric.Expression);
  if (!returned?.Expression) throw new Error('the alarm has no math expression');
  const terms = returned.Expression.split('+').map((text) => {
    const filled = /^FILL\((\w+),\s*(-?[\d.]+)\)$/.exec(text.trim());
    const id = filled ? filled[1] : text.trim();
    if (!/^\w+$/.test(id)) throw new Error(`unsupported term '${text.trim()}'`);
    if (!alarm.Metrics.some((metric) => metric.Id === id && metric.MetricStat)) throw new Error(`'${id}' is not one of the alarm's metrics`);
    return { id, fill: filled ? Number(filled[2]) : undefined };
  });
  return Array.from({ length: minutes }, (_, minute) => {
    const values = terms.map((term) => series[term.id]?.[minute]);
    if (values.every((value) => value === undefined)) return undefined;
    let sum = 0;
    for (const [i, value] of values.entries()) {
      const filled = value ?? terms[i].fill;
      if (filled === undefined) return undefined;
      sum += filled;
    }
    return sum;
  });
}

function breaches(alarm: AlarmProperties, value: number): boolean {
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= alarm.Threshold;
    case 'GreaterThanThreshold':
      return value > alarm.Threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= alarm.Threshold;
    case 'LessThanThreshold':
      return value < alarm.Threshold;
  }
}

/**
 * The alarm's state after each minute's evaluation, over the last EvaluationPeriods points. A
 * minute before a full window has passed keeps the state it had (the alarm starts OK here).
 */
export function alarmStates(alarm: AlarmProperties, series: Series, minutes: number): AlarmState[] {
  if (alarm.TreatMissingData === 'ignore' || alarm.TreatMissingData === 'missing') throw new Error(`TreatMissingData '${alarm.TreatMissingData}' is not modelled`);
  const values = expressionValues(alarm, series, minutes);
  const needed = alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods;
  const states: AlarmState[] = [];
  let state: AlarmState = 'OK';
  for (let minute = 0; minute < minutes; minute++) {
    if (minute + 1 >= alarm.EvaluationPeriods) {
      const window = values.slice(minute + 1 - alarm.EvaluationPeriods, minute + 1);
      const breaching = window.filter((value) => (value === undefined ? alarm.TreatMissingData === 'breaching' : breaches(alarm, value))).length;
      state = breaching >= needed ? 'ALARM' : 'OK';
    }
    states.push(state);
  }
  return states;
}

/** The minutes at which the alarm changed into ALARM: the events an EventBridge rule on it would get. */
export function alarmEntries(states: AlarmState[]): number[] {
  return states.flatMap((state, minute) => (state === 'ALARM' && (minute === 0 || states[minute - 1] !== 'ALARM') ? [minute] : []));
}
