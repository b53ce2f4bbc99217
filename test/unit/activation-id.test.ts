import { highestIdAt, isActivationId, lowestIdAt, newActivationId } from '../../lib/model/activation-id';

test('ids are 32 lowercase hex characters and unique', () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newActivationId()));
  expect(ids.size).toBe(1000);
  for (const id of ids) expect(isActivationId(id)).toBe(true);
});

test('ids sort by the time they were issued', () => {
  const earlier = newActivationId(1_700_000_000_000);
  const later = newActivationId(1_700_000_000_001);
  expect(earlier < later).toBe(true);
});

test('the id bounds of a millisecond enclose every id issued in it', () => {
  const at = 1_795_000_000_123;
  const id = newActivationId(at);
  expect(lowestIdAt(at) <= id && id <= highestIdAt(at)).toBe(true);
  expect(highestIdAt(at - 1) < id).toBe(true);
  expect(lowestIdAt(at + 1) > id).toBe(true);
});

test('non-ids are rejected', () => {
  expect(isActivationId('ABCDEF'.padEnd(32, '0'))).toBe(false);
  expect(isActivationId('a'.repeat(31))).toBe(false);
  expect(isActivationId('g'.repeat(32))).toBe(false);
});
