import { PassThrough } from 'node:stream';
import { LOG_SENTINEL, LogCollector, truncateLogs } from '../../lib/invoker/log-collector';

function collectorWithStreams() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const collector = new LogCollector();
  collector.attach(stdout, 'stdout');
  collector.attach(stderr, 'stderr');
  return { collector, stdout, stderr };
}

test('lines of one activation are returned once both streams printed the sentinel', async () => {
  const { collector, stdout, stderr } = collectorWithStreams();
  stdout.write('first line\nsecond ');
  stderr.write('an error\n');
  const collecting = collector.collect(1024, 5000);
  stdout.write(`line\n${LOG_SENTINEL}\n`);
  stderr.write(`${LOG_SENTINEL}\n`);
  stdout.write('next activation\n');
  const { lines, truncated } = await collecting;
  expect(truncated).toBe(false);
  expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout: first line', 'stderr: an error', 'stdout: second line']);
  expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z stdout: first line$/);
  stdout.write(`${LOG_SENTINEL}\n`);
  stderr.write(`${LOG_SENTINEL}\n`);
  expect((await collector.collect(1024, 5000)).lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout: next activation']);
});

test('collection gives up waiting for a missing sentinel after its wait', async () => {
  const { collector, stdout } = collectorWithStreams();
  stdout.write(`only stdout\n${LOG_SENTINEL}\n`);
  const { lines } = await collector.collect(1024, 50);
  expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout: only stdout']);
});

test('logs over the limit are cut with OpenWhisk’s truncation message', () => {
  const { lines, truncated } = truncateLogs(['a'.repeat(6), 'b'.repeat(6), 'c'], 10);
  expect(truncated).toBe(true);
  expect(lines).toEqual(['aaaaaa', 'Logs were truncated because the total bytes size exceeds the limit of 10 bytes.']);
});

test('output beyond what any log limit keeps is dropped while it arrives, and the activation says so', async () => {
  const { collector, stdout, stderr } = collectorWithStreams();
  const line = 'x'.repeat(1000);
  // 20 MB of output, twice the largest log limit, written before anything is collected.
  for (let i = 0; i < 20_000; i++) stdout.write(`${line}\n`);
  stdout.write(`${LOG_SENTINEL}\n`);
  stderr.write(`${LOG_SENTINEL}\n`);
  const { lines, truncated } = await collector.collect(20 * 1024 * 1024, 5000);
  expect(truncated).toBe(true);
  expect(lines.length).toBeLessThan(11_000);
  expect(lines[lines.length - 1]).toMatch(/^Logs were truncated/);
});

test('a line without a newline is cut into pieces instead of growing without bound', async () => {
  const { collector, stdout, stderr } = collectorWithStreams();
  stdout.write('y'.repeat(600 * 1024));
  stdout.write(`\n${LOG_SENTINEL}\n`);
  stderr.write(`${LOG_SENTINEL}\n`);
  const { lines } = await collector.collect(10 * 1024 * 1024, 5000);
  expect(lines).toHaveLength(3);
});
