import { AdmissionShares, shareSizeFor, type HeldShare } from '../../lib/store/admission-shares';

// The local side of admission shares (ThrottleCounters makes the store calls; the integration
// suite runs them on the embedded endpoint): who gets a share, what it admits, and when it ends.
// Fake timers make its lifetime deterministic.

const settings = { maxSize: 32, lifetimeMs: 1000 };
const large = { perMinute: 1_000_000, concurrent: 1_000_000 };
const minuteOf = (ms: number) => Math.floor(ms / 60_000);

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 2, 12, 0, 10) }));
afterEach(() => jest.useRealTimers());

function sharesWithEnded(): { shares: AdmissionShares; ended: HeldShare[] } {
  const ended: HeldShare[] = [];
  return { shares: new AdmissionShares(settings, (share) => ended.push(share)), ended };
}

function heldFor(shares: AdmissionShares, key: string, unused: number): HeldShare {
  const now = Date.now();
  const share = { namespace: 'ns', attribute: shares.newAttribute(), minute: minuteOf(now), until: shares.endOf(minuteOf(now)), unused };
  shares.hold(key, share);
  return share;
}

test.each([
  ['OpenWhisk’s defaults (60 a minute, 30 in flight) are admitted exactly', { perMinute: 60, concurrent: 30 }, 0],
  ['a limit just large enough for a share of two gets one', { perMinute: 1000, concurrent: 32 }, 2],
  ['the smaller limit decides', { perMinute: 160, concurrent: 1_000_000 }, 10],
  ['lifted limits get the largest share', large, 32],
  ['a limit of 0 is never shared', { perMinute: 0, concurrent: 1_000_000 }, 0],
])('share size: %s', (_, limits, size) => {
  expect(shareSizeFor(limits, settings.maxSize)).toBe(size);
});

test('a lone request reserves nothing; a namespace admitted again within a lifetime does', () => {
  const { shares } = sharesWithEnded();
  const minute = () => minuteOf(Date.now());
  expect(shares.wanted('k', large, minute())).toBe(0);
  jest.advanceTimersByTime(500);
  expect(shares.wanted('k', large, minute())).toBe(32);
  jest.advanceTimersByTime(5000);
  expect(shares.wanted('k', large, minute())).toBe(0);
  expect(shares.wanted('other', large, minute())).toBe(0);
});

test('no share is reserved in the last seconds of a minute: a controller whose clock is behind would use it in the next', () => {
  const { shares } = sharesWithEnded();
  jest.setSystemTime(Date.UTC(2026, 11, 2, 12, 0, 54));
  shares.wanted('k', large, minuteOf(Date.now()));
  expect(shares.wanted('k', large, minuteOf(Date.now()))).toBe(32);
  jest.setSystemTime(Date.UTC(2026, 11, 2, 12, 0, 55, 500));
  expect(shares.wanted('k', large, minuteOf(Date.now()))).toBe(0);
});

test('a share admits as many as it reserved, then nothing', () => {
  const { shares } = sharesWithEnded();
  heldFor(shares, 'k', 3);
  const minute = minuteOf(Date.now());
  expect([1, 2, 3, 4].map(() => shares.take('k', minute))).toEqual([true, true, true, false]);
  expect(shares.take('other', minute)).toBe(false);
});

test('a share admits nothing in another minute or after its lifetime, and ends with what it had left', () => {
  const { shares, ended } = sharesWithEnded();
  const share = heldFor(shares, 'k', 5);
  const minute = minuteOf(Date.now());
  expect(shares.take('k', minute + 1)).toBe(false);
  expect(shares.take('k', minute)).toBe(true);
  jest.advanceTimersByTime(999);
  expect(ended).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(shares.take('k', minute)).toBe(false);
  expect(ended).toEqual([share]);
  expect(share.unused).toBe(4);
});

test('a share ends before its minute does, however long its lifetime', () => {
  jest.setSystemTime(Date.UTC(2026, 11, 2, 12, 0, 54, 800));
  const { shares } = sharesWithEnded();
  const share = heldFor(shares, 'k', 5);
  expect(share.until).toBe(Date.UTC(2026, 11, 2, 12, 0, 55));
});

test('a replaced share does not end again; detaching every share stops every timer', () => {
  const { shares, ended } = sharesWithEnded();
  const first = heldFor(shares, 'k', 1);
  expect(shares.detach('k')).toBe(first);
  const second = heldFor(shares, 'k', 2);
  heldFor(shares, 'j', 2);
  expect(first.attribute).not.toBe(second.attribute);
  expect(shares.detachAll().map((share) => share.unused)).toEqual([2, 2]);
  jest.advanceTimersByTime(60_000);
  expect(ended).toEqual([]);
});
