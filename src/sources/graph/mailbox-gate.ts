/**
 * Every Graph request to one mailbox passes this gate, in this process: at most
 * GRAPH_MAX_CONCURRENT_PER_MAILBOX in flight (a streamed $value holds its place until it is read),
 * and none at all while a throttling penalty runs. Graph keeps counting requests made while it
 * throttles (docs/throttling.md), so a request during the penalty is refused here, never sent.
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
  private readonly waiting: Array<() => void> = [];
  private pausedUntil = 0;
  private throttles = 0;

  constructor(
    private readonly label: string,
    private readonly now: () => number,
  ) {}

  /** Waits for a free place; rejects with THROTTLED (nothing sent) while a penalty runs. */
  async acquire(): Promise<Release> {
    this.refuseDuringPenalty();
    while (this.active >= GRAPH_MAX_CONCURRENT_PER_MAILBOX) await new Promise<void>((resolve) => this.waiting.push(resolve));
    // A penalty may have started while this request waited for its turn.
    try {
      this.refuseDuringPenalty();
    } catch (error) {
      this.waiting.shift()?.();
      throw error;
    }
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
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

  private refuseDuringPenalty(): void {
    const remaining = this.pausedUntil - this.now();
    if (remaining > 0) {
      throw new PostroomError('THROTTLED', `Graph is throttling ${this.label}; no request is sent for another ${Math.ceil(remaining / 1000)} s`, { retryAfterMs: remaining });
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
