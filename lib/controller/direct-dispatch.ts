import { createHash } from 'node:crypto';
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ActivationRecord } from '../model/activation';
import { ACCEPTED_HEADER, DISPATCH_PATH, HOLDER_HEADER, SENT_AT_HEADER } from '../invoker/dispatch-server';
import { claimantOf, type InvokerRegistry } from '../store/invoker-registry';

/** An invoker that takes direct dispatches. */
export interface DispatchTarget {
  /** Its stable id: the home of an action stays where it is when the invoker process restarts. */
  id: string;
  url: string;
  capacity: number;
  /** The process of it that takes what is dispatched now (`id/instance`). */
  holder: string;
}

/**
 * What a direct dispatch came to:
 * - `record`: the activation ran, here is its record;
 * - `taken`: the invoker process `holder` accepted it, or may have (the connection broke or the
 *   deadline passed before its answer said), so it ends in a record there and must run nowhere
 *   else; its answer did not come back;
 * - `not-taken`: surely no invoker has it (all full, none reachable, or a refusal): it may go on
 *   the queue.
 */
export type DispatchResult = { kind: 'record'; record: ActivationRecord } | { kind: 'taken'; holder: string } | { kind: 'not-taken' };

/**
 * The invoker order for one action: rendezvous hashing over the invokers' ids, so each action has
 * a home invoker (where its containers stay warm) and a fixed list of next ones, and an invoker
 * joining or leaving moves only the actions whose home it is or becomes.
 */
export function homeOrder(key: string, targets: DispatchTarget[]): DispatchTarget[] {
  const score = (target: DispatchTarget) => createHash('sha1').update(key).update('\0').update(target.id).digest().readUInt32BE(0);
  return targets
    .map((target) => ({ target, score: score(target) }))
    .sort((a, b) => b.score - a.score || a.target.id.localeCompare(b.target.id))
    .map(({ target }) => target);
}

/** How long the list of invokers is reused before it is read from the registry again. */
export const DEFAULT_DIRECTORY_TTL_MS = 2000;
/** An invoker that refused a connection, or stalled, is passed over for this long. */
const UNREACHABLE_FOR_MS = 5000;

/** The live invokers that take direct dispatches, read from the registry at most every `ttlMs` (2 s). */
export class InvokerDirectory {
  private targets: DispatchTarget[] = [];
  private readAt = -Infinity;
  private reading?: Promise<void>;

  constructor(
    private readonly registry: Pick<InvokerRegistry, 'list'>,
    private readonly ttlMs = DEFAULT_DIRECTORY_TTL_MS,
  ) {}

  async live(): Promise<DispatchTarget[]> {
    const age = Date.now() - this.readAt;
    if (age > this.ttlMs) {
      this.reading ??= this.read().finally(() => (this.reading = undefined));
      // A list a little stale serves while the next is read; one much older (an idle controller,
      // or none read yet) is waited for.
      if (age > 3 * this.ttlMs) await this.reading;
    }
    return this.targets;
  }

  private async read(): Promise<void> {
    try {
      const invokers = await this.registry.list();
      this.targets = invokers
        .filter((invoker) => invoker.status === 'up' && invoker.dispatchUrl)
        .map((invoker) => ({ id: invoker.id, url: invoker.dispatchUrl!, capacity: invoker.capacity ?? 1, holder: claimantOf(invoker) }));
    } catch {
      // The registry is away for a moment: the list read last serves (the queue still works).
    }
    this.readAt = Date.now();
  }
}

type Attempt = DispatchResult | { kind: 'full' } | { kind: 'unreachable' } | { kind: 'stale-socket' };

/** How long a dispatch waits for room on an invoker this controller keeps busy, before the queue. */
const OVERFLOW_WAIT_MS = 2000;

/**
 * An invoker accepts at once, before it runs anything: one that has not answered by now is
 * stalled or cut off, and other dispatches pass it over for a while (this one waits on: it may
 * be running there).
 */
const ACCEPT_WAIT_MS = 2000;

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Dispatches blocking activations straight to an invoker and takes the record from its answer.
 * The home invoker of the action comes first; one that is full (by this controller's own count,
 * or by its answer) or unreachable is stepped over for the next. Each controller counts what it
 * has in flight per invoker; the invoker's answer is what decides, since others dispatch too.
 */
export class DirectDispatcher {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly inFlight = new Map<string, number>();
  private readonly unreachableUntil = new Map<string, number>();
  /** Dispatches waiting for one of this controller's own to finish. */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly directory: Pick<InvokerDirectory, 'live'>,
    private readonly secret: string,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Dispatches `body` (an activation message) for the action `key`, waiting at most until
   * `deadline` (epoch ms). When every invoker is busy with this controller's own dispatches, it
   * waits up to `OVERFLOW_WAIT_MS` for one of them to finish before it gives up (to the queue):
   * a direct run costs a fraction of a queued one and its polls. `untilAccepted` (a non-blocking
   * invoke): it answers `taken` as soon as an invoker accepts, and does not wait for room.
   */
  async dispatch(key: string, body: string, deadline: number, options: { untilAccepted?: boolean } = {}): Promise<DispatchResult> {
    const waitUntil = options.untilAccepted ? 0 : Math.min(deadline, Date.now() + OVERFLOW_WAIT_MS);
    for (;;) {
      const outcome = await this.tryTargets(key, body, deadline, options.untilAccepted === true);
      if (outcome !== 'busy') return outcome;
      if (Date.now() >= waitUntil) return { kind: 'not-taken' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitUntil - Date.now());
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.waiting.add(done);
      });
    }
  }

  /** One pass over the invokers in home order; `busy`: all that could take it are busy with this controller's dispatches. */
  private async tryTargets(key: string, body: string, deadline: number, untilAccepted: boolean): Promise<DispatchResult | 'busy'> {
    const now = Date.now();
    let busy = false;
    let full = false;
    for (const target of homeOrder(key, await this.directory.live())) {
      // No time left to try another: the queue.
      if (Date.now() >= deadline) return { kind: 'not-taken' };
      if ((this.unreachableUntil.get(target.url) ?? 0) > now) continue;
      if ((this.inFlight.get(target.url) ?? 0) >= target.capacity) {
        busy = true;
        continue;
      }
      this.inFlight.set(target.url, (this.inFlight.get(target.url) ?? 0) + 1);
      let exchange = this.post(target, body, deadline, this.agent, untilAccepted);
      let attempt = await exchange.attempt;
      // A kept-alive socket the invoker had just closed, before it read anything: once more on
      // a fresh one (a repeat of a dispatch that did arrive finds it running, and answers 409).
      if (attempt.kind === 'stale-socket') {
        exchange = this.post(target, body, deadline, false, untilAccepted);
        attempt = await exchange.attempt;
      }
      // The slot there is this controller's until the exchange is over (after the answer, for an
      // activation accepted and left running).
      void exchange.over.then(() => {
        this.inFlight.set(target.url, (this.inFlight.get(target.url) ?? 1) - 1);
        this.wakeWaiting();
      });
      if (attempt.kind === 'full') {
        // Full with work from elsewhere (other controllers, the queue): the queue is where to
        // wait, unless a next invoker has room.
        full = true;
        continue;
      }
      if (attempt.kind === 'unreachable' || attempt.kind === 'stale-socket') {
        // Refused before anything was sent: surely not there.
        this.unreachableUntil.set(target.url, Date.now() + UNREACHABLE_FOR_MS);
        continue;
      }
      return attempt;
    }
    return busy && !full ? 'busy' : { kind: 'not-taken' };
  }

  private wakeWaiting(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    waiting.forEach((wake) => wake());
  }

  /** One exchange with an invoker: what it came to, and when it is over (the connection done with). */
  private post(target: DispatchTarget, body: string, deadline: number, agent: Agent | false, untilAccepted: boolean): { attempt: Promise<Attempt>; over: Promise<void> } {
    let over: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (over = resolve));
    const attempt = new Promise<Attempt>((resolve) => {
      let holder: string | undefined;
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const settle = (attempt: Attempt) => {
        if (settled) return;
        settled = true;
        timers.forEach(clearTimeout);
        resolve(attempt);
      };
      let req: ClientRequest;
      // Node holds a request's bytes until its socket connects: before that, nothing reached the invoker.
      const unsent = () => holder === undefined && (!req.socket || req.socket.connecting);
      // Once anything was sent, that invoker may have accepted it.
      const broken = (): Attempt => (unsent() ? { kind: 'not-taken' } : { kind: 'taken', holder: holder ?? target.holder });
      const giveUp = () => {
        settle(broken());
        req.destroy();
      };
      try {
        req = request(new URL(DISPATCH_PATH, target.url), {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${this.secret}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [SENT_AT_HEADER]: String(Date.now()),
          },
        });
      } catch {
        // A dispatch URL this process cannot use.
        over();
        return settle({ kind: 'unreachable' });
      }
      req.on('close', () => over());
      req.on('response', (res: IncomingMessage) => {
        const accepted = res.statusCode === 200 && res.headers[ACCEPTED_HEADER] === 'true';
        if (accepted) holder = String(res.headers[HOLDER_HEADER] ?? target.holder);
        // Accepted, and nobody waits for its result: the answer is read to its end (the socket
        // goes back to the pool) and dropped.
        if (accepted && untilAccepted) settle({ kind: 'taken', holder: holder! });
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', () => settle(broken()));
        res.on('close', () => settle(broken()));
        res.on('end', () => {
          if (res.statusCode === 503) return settle({ kind: 'full' });
          // Running there already (a repeat of a dispatch that did arrive): its record comes from there.
          if (res.statusCode === 409) return settle({ kind: 'taken', holder: String(res.headers[HOLDER_HEADER] ?? target.holder) });
          if (!accepted) {
            this.log.warn({ invoker: target.id, status: res.statusCode }, 'an invoker refused a direct dispatch');
            return settle({ kind: 'not-taken' });
          }
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { record?: ActivationRecord };
            settle(answer.record ? { kind: 'record', record: answer.record } : broken());
          } catch {
            settle(broken());
          }
        });
      });
      // Past the deadline the caller answers 202 with the id; the activation goes on where it is,
      // or, still not connected then (nothing was sent), goes on the queue. Sent and not accepted
      // by then: that invoker is stalled or cut off, and later dispatches pass it over a while.
      timers.push(
        setTimeout(() => {
          if (holder === undefined && !unsent()) this.unreachableUntil.set(target.url, Date.now() + UNREACHABLE_FOR_MS);
          giveUp();
        }, Math.max(0, deadline - Date.now())),
      );
      timers.push(
        setTimeout(() => {
          if (holder === undefined) this.unreachableUntil.set(target.url, Date.now() + UNREACHABLE_FOR_MS);
        }, ACCEPT_WAIT_MS),
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (holder !== undefined) return settle(broken());
        // Refused before anything was sent: that invoker surely did not take it.
        if (error.code && CONNECT_ERRORS.has(error.code) && !req.reusedSocket) return settle({ kind: 'unreachable' });
        if (req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return settle({ kind: 'stale-socket' });
        settle(broken());
      });
      req.end(body);
    });
    return { attempt, over: finished };
  }

  close(): void {
    this.agent.destroy();
  }
}
