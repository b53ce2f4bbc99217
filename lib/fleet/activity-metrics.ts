/**
 * What an invoker tells CloudWatch about its work, so the fleet is not scaled in while it works
 * (direct dispatches never touch the queue, so the queue's metrics alone see a busy fleet as idle),
 * and about the activations dead letters ended, so operators hear of each new one.
 * The figures go out as CloudWatch Embedded Metric Format lines on standard output, which the ECS
 * awslogs driver ships and CloudWatch Logs turns into metrics: no API call, no extra permission.
 */

/** The environment variable naming the fleet (the metric dimension's value); unset, nothing is written. */
export const FLEET_METRICS_ENV = 'SKYWHISK_FLEET_METRICS';
export const FLEET_METRICS_NAMESPACE = 'Skywhisk';
export const FLEET_DIMENSION = 'Fleet';
/** Activations an invoker took into a slot since its last line (Sum per period: how many started). */
export const ACTIVATIONS_STARTED = 'ActivationsStarted';
/** Activations in an invoker's slots when the line was written (Maximum per period: still busy). */
export const ACTIVATIONS_IN_FLIGHT = 'ActivationsInFlight';
/** Activations an invoker ended in a record because their message reached the dead-letter queue (Sum per period). */
export const DEAD_LETTERS_RECORDED = 'DeadLettersRecorded';
/** Two lines a minute, so every one-minute period of a live invoker has a point even with jitter. */
export const REPORT_EVERY_MS = 30_000;

/** One EMF line (JSON, no newline) with the figures of one interval. */
export function activityLine(fleet: string, { started, inFlight, deadLetters }: ActivityCounts, at: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at,
      CloudWatchMetrics: [
        {
          Namespace: FLEET_METRICS_NAMESPACE,
          Dimensions: [[FLEET_DIMENSION]],
          Metrics: [
            { Name: ACTIVATIONS_STARTED, Unit: 'Count' },
            { Name: ACTIVATIONS_IN_FLIGHT, Unit: 'Count' },
            { Name: DEAD_LETTERS_RECORDED, Unit: 'Count' },
          ],
        },
      ],
    },
    [FLEET_DIMENSION]: fleet,
    [ACTIVATIONS_STARTED]: started,
    [ACTIVATIONS_IN_FLIGHT]: inFlight,
    [DEAD_LETTERS_RECORDED]: deadLetters,
  });
}

/**
 * What the reporter reads: activations ever started and dead letters ever recorded (both only
 * grow), and the activations in flight now. A line carries the growth since the line before.
 */
export interface ActivityCounts {
  started: number;
  inFlight: number;
  deadLetters: number;
}

/**
 * Writes an activity line every `everyMs` (idle ones too: zeros are data, and a gap would only look
 * the same) and a last one at stop.
 */
export class FleetActivityReporter {
  private timer: NodeJS.Timeout | undefined;
  private reported: ActivityCounts;

  constructor(
    private readonly fleet: string,
    private readonly read: () => ActivityCounts,
    private readonly write: (line: string) => void,
    private readonly everyMs = REPORT_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.reported = { ...read() };
  }

  start(): void {
    this.timer ??= setInterval(() => this.report(), this.everyMs);
    this.timer.unref();
  }

  /** Writes a line now with what happened since the last one (a stop begins: it may not end cleanly). */
  flush(): void {
    this.report();
  }

  /** Stops the timer and writes what was started since the last line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.report();
  }

  private report(): void {
    const now = { ...this.read() };
    const since = { started: now.started - this.reported.started, inFlight: now.inFlight, deadLetters: now.deadLetters - this.reported.deadLetters };
    this.reported = now;
    this.write(activityLine(this.fleet, since, this.now()));
  }
}
