/**
 * The fake Graph's model of Exchange Online's limits for one app and mailbox (learn.microsoft.com
 * /graph/throttling-limits#outlook-service-limits): 4 requests in flight (a fifth is answered 429
 * MailboxConcurrency, which is not time-based), a request budget per window (10,000 per 10
 * minutes), and, when asked to throttle like Exchange, a 429 ApplicationThrottled ("over its
 * RequestRate limit") on every Nth request and a 503 now and then, both with Retry-After. While
 * a Retry-After penalty runs every request is throttled again, as Graph does, and a request the
 * client sent after it could have read the Retry-After is recorded as a violation.
 */

/** Graph's documented per-app, per-mailbox concurrency limit. */
export const MAILBOX_CONCURRENCY = 4;

/**
 * A request that arrives this soon after the throttling answer left the server was sent before
 * the client could have read it (loopback delivery and one turn of its event loop): not a violation.
 * 50 ms was too little on a loaded 2-core machine: a batch sent together with the throttled one
 * arrived later than that and was flagged. A client that ignores Retry-After still shows up, since
 * every Retry-After the fake gives is at least a second.
 */
export const PENALTY_GRACE_MS = 250;

export interface ExchangeThrottling {
  /** Every Nth Outlook request (requests inside a $batch included) is answered 429 ApplicationThrottled. */
  every?: number;
  /** Retry-After of those 429s, in seconds. */
  retryAfter?: number;
  /** Every Nth Outlook request is answered 503 Service Unavailable with Retry-After; 0 or unset: never. */
  unavailableEvery?: number;
  /** Retry-After of the 503s, in seconds (default: retryAfter). */
  unavailableRetryAfter?: number;
}

export interface RequestBudget {
  requests: number;
  windowMs: number;
}

/** What the limits say about one request, before it is served. */
export type LimitVerdict =
  | { ok: true }
  | {
      ok: false;
      status: number;
      code: string;
      message: string;
      retryAfter: string;
      penalty: boolean;
      kind: 'throttled' | 'unavailable' | 'concurrency' | 'budget' | 'penalty';
    };

export interface LimitStats {
  /** HTTP requests to this mailbox ($batch envelopes included, requests inside them not). */
  http: number;
  /** Requests that reached Outlook: every non-batch request plus every request inside a $batch. */
  outlook: number;
  batches: number;
  /** Requests answered 429 ApplicationThrottled by the every-Nth rule or during a penalty. */
  throttled: number;
  unavailable: number;
  /** Requests answered 429 MailboxConcurrency. */
  concurrency: number;
  /** Requests answered 429 because the budget was spent. */
  overBudget: number;
  maxInFlight: number;
}

export class MailboxLimits {
  inFlight = 0;
  throttling: ExchangeThrottling | undefined;
  budget: RequestBudget | undefined;
  readonly stats: LimitStats = { http: 0, outlook: 0, batches: 0, throttled: 0, unavailable: 0, concurrency: 0, overBudget: 0, maxInFlight: 0 };
  /** Times of the counted requests still inside the budget's window, oldest first. */
  private readonly counted: number[] = [];
  /** Times of every counted request since the start, for the sliding-window check afterwards. */
  readonly history: number[] = [];
  /** No request is welcome before `until`; one sent after `knownAt` breaks the Retry-After. */
  private penalty = { until: 0, knownAt: Number.POSITIVE_INFINITY };
  /** Penalties decided but not yet told to the client (an answer, or a $batch envelope, still on its way). */
  private pendingPenaltyMs = 0;

  /** Counts a request against the budget (every HTTP request and every request inside a $batch). */
  count(now: number): void {
    this.counted.push(now);
    this.history.push(now);
    if (this.budget) {
      const from = now - this.budget.windowMs;
      while (this.counted.length && this.counted[0]! <= from) this.counted.shift();
    }
  }

  /** Requests counted in the window ending now. */
  usedInWindow(now: number): number {
    if (!this.budget) return this.counted.length;
    const from = now - this.budget.windowMs;
    return this.counted.filter((at) => at > from).length;
  }

  /** True when a request arriving now breaks a Retry-After the client has had time to read. */
  violates(now: number): boolean {
    return now >= this.penalty.knownAt && now < this.penalty.until;
  }

  /** Decides the fate of one Outlook request (after it was counted and entered the in-flight set). */
  judge(now: number): LimitVerdict {
    this.stats.outlook += 1;
    if (this.inFlight > MAILBOX_CONCURRENCY) {
      this.stats.concurrency += 1;
      return {
        ok: false,
        status: 429,
        code: 'ApplicationThrottled',
        message: 'Application is over its MailboxConcurrency limit.',
        retryAfter: '1',
        penalty: false,
        kind: 'concurrency',
      };
    }
    if (now < this.penalty.until) {
      this.stats.throttled += 1;
      return {
        ok: false,
        status: 429,
        code: 'ApplicationThrottled',
        message: 'Application is over its RequestRate limit.',
        retryAfter: String(Math.max(1, Math.ceil((this.penalty.until - now) / 1000))),
        penalty: false,
        kind: 'penalty',
      };
    }
    if (this.budget && this.usedInWindow(now) > this.budget.requests) {
      this.stats.overBudget += 1;
      const oldest = this.counted.find((at) => at > now - this.budget!.windowMs) ?? now;
      const wait = Math.max(1, Math.ceil((oldest + this.budget.windowMs - now) / 1000));
      return {
        ok: false,
        status: 429,
        code: 'ApplicationThrottled',
        message: 'Application is over its RequestRate limit.',
        retryAfter: String(wait),
        penalty: true,
        kind: 'budget',
      };
    }
    const t = this.throttling;
    if (t?.unavailableEvery && this.stats.outlook % t.unavailableEvery === 0) {
      this.stats.unavailable += 1;
      return {
        ok: false,
        status: 503,
        code: 'ServiceUnavailable',
        message: 'Service Unavailable',
        retryAfter: String(t.unavailableRetryAfter ?? t.retryAfter ?? 1),
        penalty: true,
        kind: 'unavailable',
      };
    }
    if (t?.every && this.stats.outlook % t.every === 0) {
      this.stats.throttled += 1;
      return {
        ok: false,
        status: 429,
        code: 'ApplicationThrottled',
        message: 'Application is over its RequestRate limit.',
        retryAfter: String(t.retryAfter ?? 1),
        penalty: true,
        kind: 'throttled',
      };
    }
    return { ok: true };
  }

  /** A time-based throttle was decided: nothing is served until the client has waited it out. */
  startPenalty(now: number, retryAfterS: number): void {
    const running = this.penalty.until > now;
    this.penalty = { until: Math.max(this.penalty.until, now + retryAfterS * 1000), knownAt: running ? this.penalty.knownAt : Number.POSITIVE_INFINITY };
    this.pendingPenaltyMs = Math.max(this.pendingPenaltyMs, retryAfterS * 1000);
  }

  /**
   * The answer carrying the Retry-After has left the server: the client may know it from now on,
   * and the wait runs from here (Retry-After counts from when the client reads it). Returns the
   * penalty's end when this answer told one, else 0.
   */
  penaltyTold(now: number): number {
    if (!this.pendingPenaltyMs) return 0;
    this.penalty = { until: Math.max(this.penalty.until, now + this.pendingPenaltyMs), knownAt: Math.min(this.penalty.knownAt, now + PENALTY_GRACE_MS) };
    this.pendingPenaltyMs = 0;
    return this.penalty.until;
  }

  enter(): void {
    this.inFlight += 1;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
  }

  leave(): void {
    this.inFlight -= 1;
  }

  /** The most counted requests in any window of `windowMs`, sliding over the whole history. */
  busiestWindow(windowMs: number): number {
    const times = this.history;
    let most = 0;
    let start = 0;
    for (let end = 0; end < times.length; end += 1) {
      while (times[end]! - times[start]! >= windowMs) start += 1;
      most = Math.max(most, end - start + 1);
    }
    return most;
  }
}
