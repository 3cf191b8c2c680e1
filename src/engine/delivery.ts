/**
 * The outbox delivery loop: at-least-once delivery of pipeline messages, each carrying its
 * stable id so destinations see it effectively once.
 *
 * A failed delivery is retried quickly a few times (honouring a destination's Retry-After), then
 * goes to catastrophic retry (seed 000): the dead letters, retried on the configured schedule and
 * replayable by hand, never dropped. A destination that refuses a message for good sends it to
 * the dead letters at once.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Destination } from '../destinations/destination.ts';
import { PostroomError, errorMessage } from '../errors.ts';
import type { ContentStore } from '../store/content/content-store.ts';
import type { OutboxMessage, Store } from '../store/store.ts';
import type { Clock } from './clock.ts';

/** Quick retries before a message becomes a dead letter. */
export const QUICK_ATTEMPTS = 5;
/** First quick retry after this; doubles each time (1 s, 2 s, 4 s, 8 s). */
const QUICK_BACKOFF_MS = 1_000;
/** Messages claimed per round; each claim lasts CLAIM_MS so a crashed worker's claims free up. */
const CLAIM_BATCH = 64;
const CLAIM_MS = 5 * 60_000;
/** Deliveries in flight at once across destinations. */
const CONCURRENCY = 8;
/** How often the loop looks for due messages when nothing woke it. */
const IDLE_POLL_MS = 1_000;
/** Raw emails released per sweep after everything made from them was delivered. */
const RELEASE_BATCH = 200;

export interface DeliveryDeps {
  store: Store;
  contents: ContentStore;
  destinations: Map<string, Destination>;
  clock: Clock;
  log: Logger;
  holder: string;
  deadLetterSchedule: number[];
  /** Called after each attempt, for metrics. */
  onOutcome?: (outcome: 'delivered' | 'retry' | 'dead', message: OutboxMessage) => void;
}

export interface DrainResult {
  delivered: number;
  retried: number;
  dead: number;
}

export class DeliveryLoop extends EventEmitter {
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: DeliveryDeps) {
    super();
  }

  /** Something was committed: deliver it now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let worked = false;
      try {
        const round = await this.deliverDue();
        worked = round.delivered + round.retried + round.dead > 0;
      } catch (error) {
        this.deps.log.error({ err: error }, 'delivery loop failed; retrying');
      }
      if (!worked && !this.stopping.signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Delivers everything due now, round after round, until nothing due is left. */
  async drain(): Promise<DrainResult> {
    const total: DrainResult = { delivered: 0, retried: 0, dead: 0 };
    for (;;) {
      const round = await this.deliverDue();
      total.delivered += round.delivered;
      total.retried += round.retried;
      total.dead += round.dead;
      if (round.delivered + round.retried + round.dead === 0) return total;
    }
  }

  /** One round: claim a batch of due messages and deliver them with bounded concurrency. */
  async deliverDue(): Promise<DrainResult> {
    const { store, clock, holder } = this.deps;
    const claimed = await store.claimDue(clock.now(), CLAIM_BATCH, holder, CLAIM_MS);
    const result: DrainResult = { delivered: 0, retried: 0, dead: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < claimed.length) {
        const message = claimed[next++]!;
        result[await this.deliverOne(message)] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, claimed.length) }, worker));
    if (claimed.length) await this.releaseRawEmails();
    return result;
  }

  private async deliverOne(message: OutboxMessage): Promise<'delivered' | 'retried' | 'dead'> {
    const { store, contents, clock, log } = this.deps;
    const destination = this.deps.destinations.get(message.destination);
    try {
      if (!destination) throw new PostroomError('DESTINATION_NOT_FOUND', `"${message.destination}" is not configured`, { retryable: false });
      await destination.deliver({ envelope: message.envelope, openContent: () => contents.open(message.contentRef) });
      await store.markDelivered(message.id, clock.now());
      await contents.remove(message.contentRef);
      this.deps.onOutcome?.('delivered', message);
      log.debug({ id: message.id, connection: message.connection, destination: message.destination }, 'delivered');
      return 'delivered';
    } catch (error) {
      const attempts = message.attempts + 1;
      const retryable = !(error instanceof PostroomError) || error.retryable;
      const retryAfter = error instanceof PostroomError ? error.retryAfterMs : undefined;
      const now = clock.now();
      if (retryable && message.state === 'pending' && attempts < QUICK_ATTEMPTS) {
        const wait = retryAfter ?? QUICK_BACKOFF_MS * 2 ** (attempts - 1);
        await store.markFailed({ id: message.id, error: errorMessage(error), nextAttemptAt: now + wait, dead: false, now });
        this.deps.onOutcome?.('retry', message);
        log.warn({ id: message.id, destination: message.destination, attempts, err: error }, 'delivery failed; retrying');
        return 'retried';
      }
      const nextAttemptAt = this.nextDeadLetterAttempt(attempts, now, retryAfter);
      await store.markFailed({ id: message.id, error: errorMessage(error), nextAttemptAt, dead: true, now });
      this.deps.onOutcome?.('dead', message);
      log.error(
        { id: message.id, connection: message.connection, destination: message.destination, attempts, nextAttemptAt: nextAttemptAt && new Date(nextAttemptAt).toISOString(), err: error },
        'delivery failed: moved to dead letters (catastrophic retry); replay with `postroom dead-letters replay`',
      );
      return 'dead';
    }
  }

  /** The catastrophic retry schedule, counted from the attempt that made the message dead. */
  private nextDeadLetterAttempt(attempts: number, now: number, retryAfter: number | undefined): number | null {
    const schedule = this.deps.deadLetterSchedule;
    const step = Math.max(0, attempts - QUICK_ATTEMPTS);
    if (step >= schedule.length) return null;
    return now + Math.max(schedule[step]!, retryAfter ?? 0);
  }

  private async releaseRawEmails(): Promise<void> {
    const refs = await this.deps.store.releasableContent(RELEASE_BATCH);
    await Promise.all(refs.map((ref) => this.deps.contents.remove(ref)));
  }
}
