/**
 * The request budget Graph gives one app per mailbox: 10,000 requests in any 10 minutes
 * (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits). Postroom
 * counts every request before it is sent (retries, a $batch envelope and each request inside it
 * included) in the store, where every worker reading or sending for that mailbox draws on the
 * same sum. When the next requests would take the window past the budget less a headroom,
 * Postroom waits until enough of the window has passed, so Graph never has to throttle it for
 * the rate ("Microsoft Graph continues to log resource usage while a client is being throttled",
 * https://learn.microsoft.com/en-us/graph/throttling).
 *
 * Counts live in buckets of a tenth of the window. The sum over every bucket that touches the
 * window is at least the number of requests really sent in it, so the count errs on the safe
 * side. Requests are counted a few at a time (one store write per chunk); a chunk is only used
 * within its own bucket, so a request is never sent later than the time it was counted for, and
 * what a session leaves unused is taken back when it ends.
 */
import { PostroomError } from '../../model/errors.ts';
import type { RequestCounter } from '../../model/request-counter.ts';

export interface BudgetSettings {
  requests: number;
  windowMs: number;
}

/** Graph's limit per app and mailbox. */
export const GRAPH_REQUEST_BUDGET: BudgetSettings = Object.freeze({ requests: 10_000, windowMs: 600_000 });

/** Buckets per window: a minute each for Graph's 10 minutes. */
export const BUCKETS_PER_WINDOW = 10;

/**
 * Share of the budget left unused: room for a request counted late by another process (the
 * check command, a second worker starting) and for Microsoft counting differently from us.
 */
export const BUDGET_HEADROOM = 0.05;

/**
 * Requests counted per store write: 1% of the budget (95 of Graph's 10,000), at most 100, so a
 * tiny budget is counted one by one. Each write is a durable transaction: counting ten at a time
 * cost a fsync per ten requests and made a 10,000-email drain four times slower (158 s against
 * 39 s in `npm run bench -- graph`).
 */
const MAX_CHUNK = 100;

export class RequestBudget {
  private reserved = 0;
  private reservedUntil = 0;
  private queue: Promise<void> = Promise.resolve();
  private pacingSince: number | undefined;

  constructor(
    readonly account: string,
    private readonly counter: RequestCounter,
    readonly settings: BudgetSettings,
    private readonly now: () => number = Date.now,
    private readonly onPacing?: (waitMs: number, used: number) => void,
  ) {}

  /** Requests Postroom lets itself send per window. */
  get allowed(): number {
    return Math.max(1, Math.floor(this.settings.requests * (1 - BUDGET_HEADROOM)));
  }

  get bucketMs(): number {
    return Math.max(1, Math.floor(this.settings.windowMs / BUCKETS_PER_WINDOW));
  }

  /** Counts `requests` about to be sent; waits first while the window has no room for them. */
  take(requests: number, signal?: AbortSignal): Promise<void> {
    const run = this.queue.then(() => this.reserve(requests, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes back requests counted ahead and not sent, while their bucket is still the current one,
   * so the count shows what was sent (status); the next request counts afresh.
   */
  release(): Promise<void> {
    const run = this.queue.then(async () => {
      const unused = this.reserved;
      this.reserved = 0;
      if (unused > 0 && this.now() < this.reservedUntil) await this.counter.countRequests(this.account, -unused, this.now(), this.bucketMs);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The oldest bucket start that still touches the window ending at `at`. */
  private windowStart(at: number): number {
    return at - this.settings.windowMs - this.bucketMs + 1;
  }

  private async reserve(requests: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.now() < this.reservedUntil && this.reserved >= requests) {
      this.reserved -= requests;
      return;
    }
    for (;;) {
      const at = this.now();
      // What is left of a chunk counted in an earlier bucket is not used: sent now, it would be
      // counted earlier than it was sent (it stays counted where it was, on the safe side).
      if (at >= this.reservedUntil) this.reserved = 0;
      const chunk = Math.max(requests - this.reserved, Math.min(MAX_CHUNK, Math.floor(this.allowed / 100)));
      const buckets = await this.counter.requestBuckets(this.account, this.windowStart(at));
      const used = buckets.reduce((sum, bucket) => sum + bucket.requests, 0);
      // An empty window lets even an oversized request through: waiting would never make room.
      if (used + chunk <= this.allowed || used === 0) {
        await this.counter.countRequests(this.account, chunk, at, this.bucketMs);
        this.reserved = Math.max(0, this.reserved + chunk - requests);
        this.reservedUntil = Math.floor(at / this.bucketMs) * this.bucketMs + this.bucketMs;
        this.pacingSince = undefined;
        return;
      }
      const waitMs = this.roomAt(buckets, used + chunk - this.allowed) - at;
      if (this.pacingSince === undefined) {
        this.pacingSince = at;
        this.onPacing?.(waitMs, used);
      }
      await sleep(Math.max(1, waitMs), signal);
      if (signal?.aborted) {
        throw new PostroomError('THROTTLED', `Postroom is pacing its requests to ${this.account}: ${used} of ${this.settings.requests} used in the window`, {
          retryAfterMs: Math.max(1, waitMs),
        });
      }
    }
  }

  /** When enough old buckets have left the window to free `excess` requests. */
  private roomAt(buckets: Array<{ at: number; requests: number }>, excess: number): number {
    let freed = 0;
    for (const bucket of buckets) {
      freed += bucket.requests;
      if (freed >= excess) return bucket.at + this.settings.windowMs + this.bucketMs;
    }
    return this.now() + this.bucketMs;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Counts kept in this process only: for a check or a destination that has no store. */
export function memoryRequestCounter(): RequestCounter {
  const accounts = new Map<string, Map<number, number>>();
  return {
    async countRequests(account, requests, now, bucketMs) {
      const buckets = accounts.get(account) ?? new Map<number, number>();
      const at = Math.floor(now / bucketMs) * bucketMs;
      buckets.set(at, (buckets.get(at) ?? 0) + requests);
      for (const start of buckets.keys()) if (start < now - 100 * bucketMs) buckets.delete(start);
      accounts.set(account, buckets);
    },
    async requestBuckets(account, since) {
      return [...(accounts.get(account) ?? new Map<number, number>())]
        .filter(([at]) => at >= since)
        .sort(([a], [b]) => a - b)
        .map(([at, requests]) => ({ at, requests }));
    },
  };
}

const processCounter = memoryRequestCounter();
const budgets = new WeakMap<RequestCounter, Map<string, RequestBudget>>();

/** Requests counted against a budget in the window ending at `now` (every worker's), as the pacing sees it. */
export async function requestsInWindow(counter: RequestCounter, account: string, settings: BudgetSettings, now: number): Promise<number> {
  const bucketMs = Math.max(1, Math.floor(settings.windowMs / BUCKETS_PER_WINDOW));
  const buckets = await counter.requestBuckets(account, now - settings.windowMs - bucketMs + 1);
  return buckets.reduce((sum, bucket) => sum + bucket.requests, 0);
}

/** The app + mailbox key the budget is kept under. */
export function budgetAccount(graphEndpoint: string, clientId: string, mailbox: string): string {
  return `graph:${new URL(graphEndpoint).host}:${clientId}:${mailbox.toLowerCase()}`;
}

/**
 * The one budget per counter (store), app and mailbox in this process, so chunks counted but not
 * yet used carry over from one session to the next.
 */
export function requestBudget(
  account: string,
  counter: RequestCounter | undefined,
  settings: BudgetSettings,
  onPacing?: (waitMs: number, used: number) => void,
): RequestBudget {
  const store = counter ?? processCounter;
  let byAccount = budgets.get(store);
  if (!byAccount) {
    byAccount = new Map();
    budgets.set(store, byAccount);
  }
  const key = `${account}|${settings.requests}|${settings.windowMs}`;
  let budget = byAccount.get(key);
  if (!budget) {
    budget = new RequestBudget(account, store, settings, Date.now, onPacing);
    byAccount.set(key, budget);
  }
  return budget;
}
