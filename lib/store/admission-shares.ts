import { randomBytes } from 'node:crypto';

/**
 * Admission shares: a long-lived controller that admits a busy namespace reserves a few more
 * admissions (in-flight slots and counts of the minute) in the one conditional update admission
 * makes anyway, and admits the next activations of that namespace from them without a store call,
 * as each OpenWhisk controller takes its share of a namespace's limits.
 *
 * The store's counts include what is reserved, so a namespace is never admitted over a limit.
 * What a share costs is the other way: while one controller holds unused admissions, another may
 * be refused up to that many early, for at most a share's lifetime. A share ends at its lifetime,
 * a margin before the end of its minute, or at shutdown, and its unused admissions are given back
 * then. A process that dies holding one leaves them to the slot reconciler, which leaves as much of
 * a count as the live shares' sizes alone and takes a share as dead once it is SHARE_GRACE_MS past
 * its end.
 */

export interface ShareSettings {
  /** The most admissions one share reserves. */
  maxSize: number;
  /** How long a share is used before what is left of it is given back. */
  lifetimeMs: number;
}

export const DEFAULT_SHARE_SETTINGS: ShareSettings = { maxSize: 32, lifetimeMs: 1000 };

/**
 * A share is at most this fraction of the smaller limit, and one of fewer than two admissions is
 * not taken: namespaces with small limits (OpenWhisk's defaults are 60 a minute and 30 in flight)
 * are admitted exactly, one update each.
 */
export const LIMIT_PER_SHARE = 16;

/**
 * How long past its end the reconciler still takes a share as possibly in use: the controller's
 * clock and the reconciler's may differ by this much.
 */
export const SHARE_GRACE_MS = 30_000;

/**
 * A share ends this long before its minute does: a controller whose clock is behind must not hand
 * out admissions of a minute another has already closed.
 */
export const MINUTE_END_MARGIN_MS = 5000;

/** Shares are attributes of the namespace's admission item named so; the value is `{until, size}`. */
export const SHARE_ATTRIBUTE_PREFIX = 'share_';

/** A share this process holds. */
export interface HeldShare {
  namespace: string;
  /** Its attribute on the admission item. */
  attribute: string;
  /** The minute window its admissions count in. */
  minute: number;
  /** When it ends (ms); it admits nothing from then on. */
  until: number;
  /** Admissions reserved and not handed out yet. */
  unused: number;
}

/** The share size the limits allow: 0 when admission stays exact. */
export function shareSizeFor(limits: { perMinute: number; concurrent: number }, maxSize: number): number {
  const size = Math.min(maxSize, Math.floor(Math.min(limits.perMinute, limits.concurrent) / LIMIT_PER_SHARE));
  return size >= 2 ? size : 0;
}

/** Past this many keys, keys not admitted through the store lately are forgotten. */
const MAX_REMEMBERED_KEYS = 1000;

/**
 * The shares one process holds, one per admission key (namespace and limits), with no store calls
 * of its own: ThrottleCounters reserves and gives back. `onEnded` is called with a share that
 * reached its end while still held, to give back what is left of it.
 */
export class AdmissionShares {
  private readonly held = new Map<string, { share: HeldShare; timer: NodeJS.Timeout }>();
  /** When each key was last admitted through the store: a key admitted again within a lifetime is busy. */
  private readonly storeAdmittedAt = new Map<string, number>();
  private readonly owner = randomBytes(6).toString('hex');
  private sequence = 0;

  constructor(
    readonly settings: ShareSettings,
    private readonly onEnded: (share: HeldShare) => void,
  ) {}

  /** Admits one from the key's share when it has an unused admission of `minute`, now. */
  take(key: string, minute: number, now = Date.now()): boolean {
    const share = this.held.get(key)?.share;
    if (!share || share.unused === 0 || now >= share.until || share.minute !== minute) return false;
    share.unused--;
    return true;
  }

  /**
   * How many admissions to reserve beyond those asked for, by an admission that goes to the store
   * now: a share when the key went to the store within a lifetime already (one lone request
   * reserves nothing) and its limits are large enough.
   */
  wanted(key: string, limits: { perMinute: number; concurrent: number }, minute: number, now = Date.now()): number {
    const last = this.storeAdmittedAt.get(key);
    if (this.storeAdmittedAt.size >= MAX_REMEMBERED_KEYS) {
      for (const [other, at] of this.storeAdmittedAt) if (now - at > this.settings.lifetimeMs) this.storeAdmittedAt.delete(other);
    }
    this.storeAdmittedAt.set(key, now);
    if (last === undefined || now - last > this.settings.lifetimeMs || this.endOf(minute, now) <= now) return 0;
    return shareSizeFor(limits, this.settings.maxSize);
  }

  /** A new share's attribute name, unique to this process. */
  newAttribute(): string {
    return `${SHARE_ATTRIBUTE_PREFIX}${this.owner}_${++this.sequence}`;
  }

  /** When a share reserved now ends: after its lifetime, or a margin before its minute does. */
  endOf(minute: number, now = Date.now()): number {
    return Math.min(now + this.settings.lifetimeMs, (minute + 1) * 60_000 - MINUTE_END_MARGIN_MS);
  }

  /** Stops holding the key's share (it is being replaced) and returns it. */
  detach(key: string): HeldShare | undefined {
    const entry = this.held.get(key);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.held.delete(key);
    return entry.share;
  }

  /** Holds a share just reserved for the key until its end. */
  hold(key: string, share: HeldShare, now = Date.now()): void {
    this.detach(key);
    const timer = setTimeout(() => {
      if (this.held.get(key)?.share !== share) return;
      this.held.delete(key);
      this.onEnded(share);
    }, Math.max(0, share.until - now));
    timer.unref();
    this.held.set(key, { share, timer });
  }

  /** Stops holding every share (shutdown) and returns them. */
  detachAll(): HeldShare[] {
    return [...this.held.keys()].map((key) => this.detach(key)!);
  }
}
