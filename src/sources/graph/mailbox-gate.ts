/**
 * Every Graph request to one mailbox passes this gate, in this process: at most
 * GRAPH_MAX_CONCURRENT_PER_MAILBOX in flight (a streamed $value holds its place until it is read,
 * a $batch holds as many places as Graph runs of it at once), and none at all while a throttling
 * penalty runs. Graph keeps counting requests made while it throttles (docs/throttling.md), so a
 * request during the penalty is refused here, never sent.
 * Other workers are kept off by the account throttle in the store; this gate covers the requests
 * already under way in this process (background acknowledgements, the email destination).
 */
import { PostroomError } from '../../model/errors.ts';
import { backoffCeiling } from '../../throttle/backoff.ts';

/** Graph's documented limit: 4 concurrent requests per app and mailbox; a fifth is answered 429 MailboxConcurrency. */
export const GRAPH_MAX_CONCURRENT_PER_MAILBOX = 4;

export type Release = () => void;

export class MailboxGate {
  private active = 0;
  /** Requests waiting for places, first come first served; each needs `slots` of them. */
  private readonly waiting: Array<{ slots: number; go: () => void }> = [];
  /** Called each time one of this process's requests lets go of its places. */
  private readonly onRelease = new Set<() => void>();
  private pausedUntil = 0;
  private throttles = 0;

  constructor(
    private readonly label: string,
    private readonly now: () => number,
  ) {}

  /**
   * Waits for `slots` free places (a $batch takes as many as Graph runs of it at once against the
   * mailbox); rejects with THROTTLED (nothing sent) while a penalty runs.
   */
  async acquire(slots = 1): Promise<Release> {
    const need = Math.min(Math.max(1, slots), GRAPH_MAX_CONCURRENT_PER_MAILBOX);
    this.refuseDuringPenalty();
    if (this.waiting.length || this.active + need > GRAPH_MAX_CONCURRENT_PER_MAILBOX) {
      await new Promise<void>((go) => this.waiting.push({ slots: need, go }));
    } else {
      this.active += need;
    }
    // A penalty may have started while this request waited for its turn.
    try {
      this.refuseDuringPenalty();
    } catch (error) {
      this.free(need);
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free(need);
    };
  }

  /** Gives places back and lets the waiting in, in their order, as far as they fit. */
  private free(slots: number): void {
    this.active -= slots;
    while (this.waiting.length && this.active + this.waiting[0]!.slots <= GRAPH_MAX_CONCURRENT_PER_MAILBOX) {
      const next = this.waiting.shift()!;
      this.active += next.slots;
      next.go();
    }
    for (const listener of [...this.onRelease]) listener();
  }

  /**
   * After a 429 MailboxConcurrency: Graph counts this app's requests in flight to the mailbox, and
   * the limit is not time-based, so the retry waits until one of this process's own requests
   * ends. With none in flight the others are not ours (another process of the same app), and
   * only the clock helps: `fallbackMs`, Graph's Retry-After.
   */
  async ownRequestFinished(fallbackMs: number): Promise<void> {
    if (this.active === 0) {
      await new Promise((resolve) => setTimeout(resolve, fallbackMs));
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.onRelease.delete(done);
        resolve();
      };
      this.onRelease.add(done);
    });
  }

  /**
   * Graph throttled a request: no request goes out before the stated wait. Without Retry-After,
   * the engine picks the account's jittered backoff (throttle-decision.ts) and every worker waits
   * for it; this gate holds back this process's requests for the shortest wait that backoff step
   * can pick (equal jitter: half its ceiling), so it never outlasts the engine's pause.
   * Returns the wait applied.
   */
  penalise(retryAfterMs: number | undefined): number {
    const wait = retryAfterMs ?? backoffCeiling(this.throttles) / 2;
    this.throttles += 1;
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + wait);
    return wait;
  }

  /** A request went through: the next throttle starts the backoff from the beginning. */
  succeeded(): void {
    if (this.now() >= this.pausedUntil) this.throttles = 0;
  }

  /** Requests in flight now (tests and metrics). */
  get inFlight(): number {
    return this.active;
  }

  /** Throws THROTTLED while a penalty runs: checked before a request is counted against the budget. */
  checkOpen(): void {
    this.refuseDuringPenalty();
  }

  private refuseDuringPenalty(): void {
    const remaining = this.pausedUntil - this.now();
    if (remaining > 0) {
      throw new PostroomError('THROTTLED', `Graph is throttling ${this.label}; no request is sent for another ${Math.ceil(remaining / 1000)} s`, {
        retryAfterMs: remaining,
      });
    }
  }
}

const gates = new Map<string, MailboxGate>();

/** The one gate per Graph endpoint and mailbox in this process. */
export function mailboxGate(graphEndpoint: string, mailbox: string, now: () => number = Date.now): MailboxGate {
  const key = `${new URL(graphEndpoint).origin}|${mailbox.toLowerCase()}`;
  let gate = gates.get(key);
  if (!gate) {
    gate = new MailboxGate(mailbox, now);
    gates.set(key, gate);
  }
  return gate;
}
