import { randomBytes } from 'node:crypto';

/**
 * Activation ids are 32 lowercase hex characters, like OpenWhisk's. Ours are time-ordered:
 * 12 hex digits of epoch milliseconds, then 20 random hex digits (80 bits). Sorting ids sorts
 * activations by acceptance time, so "newest first" is a plain descending key query and
 * `since`/`upto` become key ranges.
 */
const TIME_DIGITS = 12;
const RANDOM_BYTES = 10;

export function newActivationId(nowMs: number = Date.now()): string {
  return nowMs.toString(16).padStart(TIME_DIGITS, '0') + randomBytes(RANDOM_BYTES).toString('hex');
}

export const ACTIVATION_ID = /^[0-9a-f]{32}$/;

export function isActivationId(value: string): boolean {
  return ACTIVATION_ID.test(value);
}

/** The smallest id that could have been issued at `ms`. */
export function lowestIdAt(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(TIME_DIGITS, '0') + '0'.repeat(RANDOM_BYTES * 2);
}

/** The largest id that could have been issued at `ms`. */
export function highestIdAt(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(TIME_DIGITS, '0') + 'f'.repeat(RANDOM_BYTES * 2);
}
