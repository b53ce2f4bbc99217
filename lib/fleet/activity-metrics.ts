/**
 * What an invoker tells CloudWatch about its work, so the fleet is not scaled in while it works:
 * direct dispatches never touch the queue, so the queue's metrics alone see a busy fleet as idle.
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
/** Two lines a minute, so every one-minute period of a live invoker has a point even with jitter. */
export const REPORT_EVERY_MS = 30_000;

/** One EMF line (JSON, no newline) with both figures. */
export function activityLine(fleet: string, started: number, inFlight: number, at: number): string {
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
          ],
        },
      ],
    },
    [FLEET_DIMENSION]: fleet,
    [ACTIVATIONS_STARTED]: started,
    [ACTIVATIONS_IN_FLIGHT]: inFlight,
  });
}

/** What the reporter reads: a count of activations ever started (it only grows) and those in flight now. */
export interface ActivityCounts {
  started: number;
  inFlight: number;
}

/**
 * Writes an activity line every `everyMs` (idle ones too: zeros are data, and a gap would only look
 * the same) and a last one at stop, each with the activations started since the line before.
 */
export class FleetActivityReporter {
  private timer: NodeJS.Timeout | undefined;
  private reportedStarted: number;

  constructor(
    private readonly fleet: string,
    private readonly read: () => ActivityCounts,
    private readonly write: (line: string) => void,
    private readonly everyMs = REPORT_EVERY_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.reportedStarted = read().started;
  }

  start(): void {
    this.timer ??= setInterval(() => this.report(), this.everyMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what was started since the last line. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.report();
  }

  private report(): void {
    const { started, inFlight } = this.read();
    const since = started - this.reportedStarted;
    this.reportedStarted = started;
    this.write(activityLine(this.fleet, since, inFlight, this.now()));
  }
}
