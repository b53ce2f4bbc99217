import { ACTIVATIONS_IN_FLIGHT, ACTIVATIONS_STARTED, activityLine, DEAD_LETTERS_RECORDED, FleetActivityReporter, REPORT_EVERY_MS } from '../../lib/fleet/activity-metrics';

// The invoker's activity as CloudWatch Embedded Metric Format lines: what the idle alarm counts.

afterEach(() => jest.useRealTimers());

test('a line is EMF CloudWatch extracts: every metric it declares is a number at its root, with the fleet dimension', () => {
  const line = JSON.parse(activityLine('fleet-a', { started: 7, inFlight: 2, deadLetters: 1 }, 1_790_000_000_000)) as Record<string, unknown> & {
    _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  };
  expect(line._aws.Timestamp).toBe(1_790_000_000_000);
  const [directive] = line._aws.CloudWatchMetrics;
  expect(directive.Namespace).toBe('Skywhisk');
  for (const dimension of directive.Dimensions.flat()) expect(typeof line[dimension]).toBe('string');
  expect(line.Fleet).toBe('fleet-a');
  expect(directive.Metrics.map((metric) => metric.Name)).toEqual([ACTIVATIONS_STARTED, ACTIVATIONS_IN_FLIGHT, DEAD_LETTERS_RECORDED]);
  for (const metric of directive.Metrics) expect(typeof line[metric.Name]).toBe('number');
  expect(line).toMatchObject({ ActivationsStarted: 7, ActivationsInFlight: 2, DeadLettersRecorded: 1 });
});

test('every 30 s a line with the activations started and dead letters recorded since the last one, and those in flight; idle lines carry zeros; stop writes the rest', () => {
  jest.useFakeTimers();
  // 40 started before the reporter was made: lines count only what starts after.
  const counts = { started: 40, inFlight: 0, deadLetters: 2 };
  const lines: Array<{ ActivationsStarted: number; ActivationsInFlight: number; DeadLettersRecorded: number }> = [];
  const reporter = new FleetActivityReporter('fleet-a', () => counts, (line) => lines.push(JSON.parse(line)));
  reporter.start();
  counts.started = 45;
  counts.inFlight = 3;
  jest.advanceTimersByTime(REPORT_EVERY_MS);
  jest.advanceTimersByTime(REPORT_EVERY_MS);
  counts.started = 46;
  counts.inFlight = 0;
  counts.deadLetters = 3;
  // A stop begins (flush), then ends (stop) with nothing new: the last line carries zeros.
  reporter.flush();
  reporter.stop();
  jest.advanceTimersByTime(REPORT_EVERY_MS * 3);
  expect(lines.map((line) => [line.ActivationsStarted, line.ActivationsInFlight, line.DeadLettersRecorded])).toEqual([
    [5, 3, 0],
    [0, 3, 0],
    [1, 0, 1],
    [0, 0, 0],
  ]);
});
