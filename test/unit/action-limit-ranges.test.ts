import { kindAllowed, namespaceLimitViolation, OPENWHISK_ACTION_RANGES, parseActionLimitRanges, userLimits } from '../../lib/model/limits';

// SKYWHISK_ACTION_LIMITS moves OpenWhisk's action ranges; a namespace's own ranges stay inside them.

test('unset or empty: OpenWhisk\'s ranges', () => {
  expect(parseActionLimitRanges(undefined)).toEqual(OPENWHISK_ACTION_RANGES);
  expect(parseActionLimitRanges('  ')).toEqual(OPENWHISK_ACTION_RANGES);
});

test('a field given replaces that bound only', () => {
  const ranges = parseActionLimitRanges('{"memory":{"max":4096},"timeout":{"max":3600000,"default":120000}}');
  expect(ranges.memory).toEqual({ min: 128, max: 4096, default: 256 });
  expect(ranges.timeout).toEqual({ min: 100, max: 3_600_000, default: 120_000 });
  expect(ranges.logs).toEqual(OPENWHISK_ACTION_RANGES.logs);
});

test.each([
  ['not JSON', '{memory', /SKYWHISK_ACTION_LIMITS is not JSON/],
  ['an unknown limit', '{"disk":{"max":1}}', /Unrecognized key/i],
  ['an unknown bound', '{"memory":{"std":256}}', /memory: Unrecognized key/i],
  ['min above max', '{"memory":{"min":1024,"max":512}}', /memory: min 1024 is above max 512/],
  ['a default outside the range', '{"timeout":{"default":400000}}', /timeout\.default: 400000 is outside 100\.\.300000/],
  ['a max above what Skywhisk allows', '{"memory":{"max":100000}}', /memory\.max: 100000 is above the most Skywhisk allows, 65536/],
  ['a concurrency minimum of 0', '{"concurrency":{"min":0}}', /concurrency\.min: at least 1/],
  ['a memory minimum of 0, which Docker reads as no limit', '{"memory":{"min":0,"default":256}}', /memory\.min: at least 64/],
  ['a timeout minimum below 100 ms', '{"timeout":{"min":10}}', /timeout\.min: at least 100/],
  ['a fraction', '{"memory":{"max":1024.5}}', /memory\.max/],
])('refuses %s, naming it', (_title, raw, message) => {
  expect(() => parseActionLimitRanges(raw)).toThrow(message);
});

describe('a namespace\'s ranges', () => {
  const saved = process.env.SKYWHISK_ACTION_LIMITS;
  beforeAll(() => {
    process.env.SKYWHISK_ACTION_LIMITS = '{"memory":{"max":2048}}';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SKYWHISK_ACTION_LIMITS;
    else process.env.SKYWHISK_ACTION_LIMITS = saved;
  });

  test('are the system\'s unless set, and never wider than the system\'s', () => {
    expect(userLimits()).toMatchObject({ minActionMemory: 128, maxActionMemory: 2048, maxActionTimeout: 300_000 });
    expect(userLimits({ maxActionMemory: 100_000, minActionMemory: 1 })).toMatchObject({ minActionMemory: 128, maxActionMemory: 2048 });
    expect(userLimits({ maxActionMemory: 64 })).toMatchObject({ maxActionMemory: 128 });
  });

  test('bound only the limits a request sets, with OpenWhisk\'s words', () => {
    const user = userLimits({ maxActionMemory: 1024, maxActionConcurrency: 10, minActionLogs: 1 });
    expect(namespaceLimitViolation(undefined, user)).toBeUndefined();
    expect(namespaceLimitViolation({ memory: 1024, concurrency: 10 }, user)).toBeUndefined();
    expect(namespaceLimitViolation({ memory: 1025 }, user)).toBe('memory size 1025 MB exceeds allowed threshold of 1024 MB');
    expect(namespaceLimitViolation({ concurrency: 11 }, user)).toBe('concurrency 11 exceeds allowed threshold of 10');
    expect(namespaceLimitViolation({ logs: 0 }, user)).toBe('log size 0 MB below allowed threshold of 1 MB');
  });
});

test.each([
  [undefined, 'python:3.11', true],
  [[], 'python:3.11', true],
  [['nodejs:22', 'blackbox'], 'blackbox', true],
  [['nodejs:22', 'blackbox'], 'nodejs:20', false],
  [['nodejs:22'], 'sequence', false],
])('allowedKinds %j: %s allowed is %s', (allowedKinds, kind, allowed) => {
  expect(kindAllowed({ allowedKinds }, kind)).toBe(allowed);
});
