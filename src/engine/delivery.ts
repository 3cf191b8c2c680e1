/**
 * The outbox delivery loop: at-least-once delivery of pipeline messages, each carrying its
 * stable id so destinations see it effectively once.
 *
 * A failed delivery is retried quickly a few times (honouring a destination's Retry-After), then
 * goes to catastrophic retry: the dead letters, retried on the configured schedule and
 * replayable by hand, never dropped. A destination that refuses a message for good sends it to
 * the dead letters at once.
 *
 * Lanes: every destination has its own lane, which claims only that destination's messages and
 * delivers them with its own concurrency, on its own schedule. A destination that hangs (a
 * webhook that never answers) or fails holds up only its own lane; the others go on. A last
 * lane takes messages whose destination is no longer configured, so they reach the dead
 * letters (visible, replayable) rather than waiting unseen.
 *
 * A reload of the config file swaps a destination's object (swapDestination): lanes go by name,
 * so the next delivery takes the new one, while the deliveries that already took the old one
 * finish with it, flush included (a directory's fsync is the old object's), before it is closed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import type { ContentStore } from '../model/content-store.ts';
import type { Destination } from '../model/destination.ts';
import { errorMessage, PostroomError } from '../model/errors.ts';
import { faultPoint } from '../model/fault-points.ts';
import type { DeliveryLane, OutboxMessage, Store } from '../store/store.ts';
import { backoffCeiling } from '../throttle/backoff.ts';
import { isStoreOutage, StoreOutage } from './store-outage.ts';
import { inDeliverySpan } from './traces.ts';

/** Quick retries before a message becomes a dead letter. */
export const QUICK_ATTEMPTS = 5;
/** First quick retry after this; doubles each time (1 s, 2 s, 4 s, 8 s), through the throttle floor's one backoff. */
const QUICK_BACKOFF_MS = 1_000;
/**
 * Messages a lane claims per round. A claim lasts CLAIM_MS, so the deliveries a crashed worker
 * had claimed are taken over after at most a minute. A delivery still running when its claim
 * runs out may be sent again by another worker: at-least-once, with the same id, which every
 * destination uses as its idempotency key. The other mistake (a long claim) only delays.
 */
const CLAIM_BATCH = 64;
const CLAIM_MS = 60_000;
/**
 * A delivery that met a full disk tries again after this: space is freed by people (or a log
 * rotation), not in milliseconds, and each try costs one failed write. It counts no attempt.
 */
export const DISK_FULL_WAIT_MS = 30_000;
/** Deliveries in flight at once per destination lane (so a hanging destination holds at most these). */
const LANE_CONCURRENCY = 8;
/** How often the loop looks for due messages when nothing woke it. */
const IDLE_POLL_MS = 1_000;
/** Raw emails released per sweep after everything made from them was delivered. */
const RELEASE_BATCH = 200;
/** Delivered outbox rows are forgotten in statements of this many, ... */
const FORGET_BATCH = 1_000;
/** ... at most this many statements a sweep (short transactions; the next sweep goes on), ... */
const FORGET_STATEMENTS = 10;
/** ... one sweep a minute at most. */
const FORGET_EVERY_MS = 60_000;

export interface DeliveryDeps {
  store: Store;
  contents: ContentStore;
  destinations: Map<string, Destination>;
  clock: Clock;
  log: Logger;
  holder: string;
  deadLetterSchedule: number[];
  /** How long a delivered message's outbox row is kept (the API can still show it) before it is deleted. */
  keepDeliveredMs: number;
  /** How long a delivered message's content is kept so it can be replayed (0: removed at delivery). */
  keepDeliveredContentMs?: number;
  /** Called after each attempt, for metrics. */
  onOutcome?: (outcome: DeliveryOutcome, message: OutboxMessage) => void;
}

/**
 * One attempt's outcome: 'dead' only for the attempt that moved a message to the dead letters;
 * a failed retry of a dead letter is 'still-dead' (counted and logged as a new dead letter once).
 */
export type DeliveryOutcome = 'delivered' | 'retry' | 'dead' | 'still-dead';

/**
 * What a replay did to one pipeline message: delivered now, failed again (why, and when next), in
 * another worker's hands, or not replayable: delivered before, its content already removed.
 */
export interface ReplayOutcome {
  id: string;
  outcome: 'delivered' | 'failed' | 'queued' | 'not-found' | 'content-gone';
  error: string | null;
  nextAttemptAt: number | null;
  attempts: number;
}

export interface DrainResult {
  delivered: number;
  retried: number;
  dead: number;
}

export class DeliveryLoop {
  private readonly wakers = new Set<() => void>();
  private running: Promise<void> | undefined;
  private releasing: Promise<void> | undefined;
  private lastForgotten = 0;
  /** What each destination answered, by pipeline message id, until the outbox records it (the email trail). */
  private readonly replies = new Map<string, string>();
  private readonly stopping = new AbortController();
  /** Per lane: messages claimed in a round the store failed under (see releaseStranded). */
  private readonly stranded = new Map<string, OutboxMessage[]>();
  /** Deliveries under way per destination object, until their round's flush is over. */
  private readonly inUse = new Map<Destination, number>();
  /** Swapped-out destinations waiting for their deliveries under way to finish. */
  private readonly whenIdle = new Map<Destination, () => void>();

  constructor(private readonly deps: DeliveryDeps) {}

  /** Something was committed: deliver it now rather than at the next poll. */
  nudge(): void {
    for (const wake of this.wakers) wake();
  }

  start(): void {
    this.running ??= Promise.all(this.lanes().map((lane) => this.loop(lane))).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.nudge();
    await this.running;
  }

  /**
   * New settings for a configured destination (a reload of the config file): every delivery from
   * now on uses `next`; the old object is closed once the deliveries that had already taken it,
   * and their round's flush, are over. Resolves once it is closed. Only a destination that has a
   * lane can be swapped: a new name needs a restart (lanes are made at start).
   */
  async swapDestination(name: string, next: Destination): Promise<void> {
    const old = this.deps.destinations.get(name);
    if (!old) throw new PostroomError('DESTINATION_NOT_FOUND', `"${name}" has no delivery lane in this process; a new destination needs a restart`);
    this.deps.destinations.set(name, next);
    if (this.inUse.has(old)) await new Promise<void>((resolve) => this.whenIdle.set(old, resolve));
    await old.close();
  }

  private take(name: string): Destination | undefined {
    const destination = this.deps.destinations.get(name);
    if (destination) this.inUse.set(destination, (this.inUse.get(destination) ?? 0) + 1);
    return destination;
  }

  private giveBack(destination: Destination): void {
    const left = (this.inUse.get(destination) ?? 1) - 1;
    if (left > 0) {
      this.inUse.set(destination, left);
      return;
    }
    this.inUse.delete(destination);
    this.whenIdle.get(destination)?.();
    this.whenIdle.delete(destination);
  }

  /** One lane per configured destination, and one for messages whose destination is not configured. */
  private lanes(): DeliveryLane[] {
    const names = [...this.deps.destinations.keys()];
    return [...names.map((destination) => ({ destination })), { exceptDestinations: names }];
  }

  private async loop(lane: DeliveryLane): Promise<void> {
    const outage = new StoreOutage(this.deps.log.child({ lane: 'destination' in lane ? lane.destination : 'unconfigured' }), this.deps.clock, 'delivery');
    while (!this.stopping.signal.aborted) {
      let worked = false;
      let wait = IDLE_POLL_MS;
      try {
        const round = await this.deliverLane(lane);
        outage.answered();
        worked = round.delivered + round.retried + round.dead > 0;
      } catch (error) {
        if (isStoreOutage(error)) wait = outage.failed(error);
        else this.deps.log.error({ err: error, lane }, 'delivery loop failed; retrying');
      }
      if (!worked && !this.stopping.signal.aborted) {
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, wait);
          this.wakers.add(wake);
        });
      }
    }
  }

  /** Delivers everything due now, each lane round after round, until nothing due is left. */
  async drain(): Promise<DrainResult> {
    const drainLane = async (lane: DeliveryLane): Promise<DrainResult> => {
      const total: DrainResult = { delivered: 0, retried: 0, dead: 0 };
      for (;;) {
        const round = await this.deliverLane(lane);
        addUp(total, round);
        if (round.delivered + round.retried + round.dead === 0) return total;
      }
    };
    return (await Promise.all(this.lanes().map(drainLane))).reduce(addUp, { delivered: 0, retried: 0, dead: 0 });
  }

  /** One round of every lane. */
  async deliverDue(): Promise<DrainResult> {
    return (await Promise.all(this.lanes().map((lane) => this.deliverLane(lane)))).reduce(addUp, { delivered: 0, retried: 0, dead: 0 });
  }

  /**
   * One round of one lane: claim a batch of its due messages and deliver them with bounded
   * concurrency; then, for the ones delivered, the destination's flush and ONE outbox update.
   */
  private async deliverLane(lane: DeliveryLane): Promise<DrainResult> {
    const { store, clock, holder } = this.deps;
    await this.releaseStranded(lane);
    const claimed = await store.claimDue(clock.now(), CLAIM_BATCH, holder, CLAIM_MS, lane);
    const startedAt = clock.now();
    let result: DrainResult;
    try {
      result = await this.deliverClaimed(claimed);
    } catch (error) {
      // The store went away mid-round: these stay claimed by us until it is back (releaseStranded).
      if (isStoreOutage(error)) this.stranded.set(laneKey(lane), [...(this.stranded.get(laneKey(lane)) ?? []), ...claimed]);
      throw error;
    }
    // An idle lane still lets kept content and old rows go, once a minute (a round with work does it each time).
    if (!claimed.length && clock.now() - this.lastForgotten >= FORGET_EVERY_MS) await this.releaseRawEmails();
    if (claimed.length) {
      // Success is not silent: one line per round that did something, none when nothing was due.
      this.deps.log.info(
        { lane: 'destination' in lane ? lane.destination : 'unconfigured', ...result, durationMs: clock.now() - startedAt },
        `delivery round: ${result.delivered} delivered, ${result.retried} to retry, ${result.dead} in the dead letters`,
      );
    }
    return result;
  }

  /**
   * Messages a round had claimed when the store stopped answering: once it answers again they
   * are handed back, due now and without an attempt counted, rather than waiting out their claim
   * (a minute). One the destination already had goes again with the same id (at-least-once).
   */
  private async releaseStranded(lane: DeliveryLane): Promise<void> {
    const stranded = this.stranded.get(laneKey(lane));
    if (!stranded?.length) return;
    const now = this.deps.clock.now();
    for (const message of stranded) {
      await this.deps.store.markFailed({
        id: message.id,
        error: message.lastError ?? 'the store stopped answering during the delivery',
        nextAttemptAt: now,
        dead: message.state === 'dead',
        now,
        countAttempt: false,
      });
    }
    this.stranded.delete(laneKey(lane));
  }

  /**
   * Replay by hand (API, CLI): delivers these pipeline messages now, whatever their schedule, and
   * says what happened to each. A dead letter or a pending message goes now; a delivered one goes
   * again, with the same id, while its content is kept (`outbox.keepDeliveredContent`). One
   * another worker is delivering right now is 'queued'. The email trail records who asked
   * (`by`: "the API", "the CLI").
   */
  async replay(ids: readonly string[], by = 'an operator'): Promise<ReplayOutcome[]> {
    const { store, clock, holder } = this.deps;
    const reopened = new Set(await store.reopenDelivered(ids, clock.now()));
    await store.recordReplay(ids, clock.now(), by);
    const claimed = await store.claimIds(ids, clock.now(), holder, CLAIM_MS);
    await this.deliverClaimed(claimed);
    const mine = new Set(claimed.map((message) => message.id));
    return Promise.all(
      ids.map(async (id): Promise<ReplayOutcome> => {
        const message = await store.getOutboxMessage(id);
        if (!message) return { id, outcome: 'not-found', error: null, nextAttemptAt: null, attempts: 0 };
        if (message.state === 'delivered' && !mine.has(id) && !reopened.has(id)) {
          return {
            id,
            outcome: 'content-gone',
            error: contentGoneReason(this.deps.keepDeliveredContentMs ?? 0),
            nextAttemptAt: null,
            attempts: message.attempts,
          };
        }
        if (message.state === 'discarded') {
          return { id, outcome: 'content-gone', error: 'it was discarded by hand, and its content with it', nextAttemptAt: null, attempts: message.attempts };
        }
        const outcome = message.state === 'delivered' ? 'delivered' : mine.has(id) ? 'failed' : 'queued';
        return {
          id,
          outcome,
          error: outcome === 'failed' ? message.lastError : null,
          nextAttemptAt: outcome === 'failed' ? message.nextAttemptAt : null,
          attempts: message.attempts,
        };
      }),
    );
  }

  /** Delivers claimed messages with bounded concurrency; then, for the ones delivered, the destination's flush and ONE outbox update. */
  private async deliverClaimed(claimed: OutboxMessage[]): Promise<DrainResult> {
    const result: DrainResult = { delivered: 0, retried: 0, dead: 0 };
    const delivered: OutboxMessage[] = [];
    // Which destination object took each message: the same one flushes it, even if a reload swapped it meanwhile.
    const taken = new Map<string, Destination>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < claimed.length) {
        const message = claimed[next++]!;
        const outcome = await this.deliverOne(message, taken);
        if (outcome === 'delivered') delivered.push(message);
        else result[outcome] += 1;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(LANE_CONCURRENCY, claimed.length) }, worker));
      const { recorded, unflushed } = await this.recordDelivered(delivered, taken);
      result.delivered += recorded;
      for (const { message, error } of unflushed) result[await this.failed(message, error)] += 1;
    } finally {
      for (const destination of taken.values()) this.giveBack(destination);
    }
    if (claimed.length) await this.releaseRawEmails();
    return result;
  }

  /** Sends one message; 'delivered' means the destination has it, not yet that the outbox says so. */
  private async deliverOne(message: OutboxMessage, taken: Map<string, Destination>): Promise<'delivered' | 'retried' | 'dead'> {
    const { contents } = this.deps;
    const destination = this.take(message.destination);
    if (destination) taken.set(message.id, destination);
    try {
      if (!destination) throw new PostroomError('DESTINATION_NOT_FOUND', `"${message.destination}" is not configured`, { retryable: false });
      const contentFile = contents.filePath?.(message.contentRef);
      // The destination sends this span's context on (traceparent): the receiver's trace continues the email's.
      const receipt = await inDeliverySpan(message, () =>
        destination.deliver({ envelope: message.envelope, openContent: () => contents.open(message.contentRef), ...(contentFile ? { contentFile } : {}) }),
      );
      faultPoint('during-delivery');
      if (receipt) this.replies.set(message.id, receipt.reply);
      return 'delivered';
    } catch (error) {
      return this.failed(message, error);
    }
  }

  /**
   * Flushes each destination that took messages, then records them delivered in one update and
   * lets go of their content. Messages whose destination could not flush come back as failures.
   */
  private async recordDelivered(
    delivered: OutboxMessage[],
    taken: Map<string, Destination>,
  ): Promise<{ recorded: number; unflushed: Array<{ message: OutboxMessage; error: unknown }> }> {
    const { store, contents, clock, log } = this.deps;
    const flushErrors = new Map<Destination, unknown>();
    for (const destination of new Set(delivered.map((message) => taken.get(message.id)))) {
      await destination?.flush?.().catch((error: unknown) => flushErrors.set(destination, error));
    }
    const flushFailed = (message: OutboxMessage): boolean => flushErrors.has(taken.get(message.id)!);
    const recorded = delivered.filter((message) => !flushFailed(message));
    if (recorded.length) {
      const keepContent = this.deps.keepDeliveredContentMs ?? 0;
      await store.markDelivered(
        recorded.map((message) => message.id),
        clock.now(),
        this.replies,
        keepContent > 0 ? clock.now() + keepContent : null,
      );
      // Kept for replays when asked (expireDeliveredContent lets it go later); removed now otherwise.
      if (keepContent <= 0) await Promise.all(recorded.map((message) => contents.remove(message.contentRef)));
    }
    for (const message of recorded) {
      this.deps.onOutcome?.('delivered', message);
      log.debug({ id: message.id, connection: message.connection, destination: message.destination }, 'delivered');
    }
    for (const message of delivered) this.replies.delete(message.id);
    const unflushed = delivered.filter(flushFailed).map((message) => ({ message, error: flushErrors.get(taken.get(message.id)!) }));
    return { recorded: recorded.length, unflushed };
  }

  /** A failed attempt: a quick retry, a throttled wait, or the dead letters. */
  private async failed(message: OutboxMessage, error: unknown): Promise<'retried' | 'dead'> {
    const { store, clock, log } = this.deps;
    if (error instanceof PostroomError && error.code === 'DISK_FULL') {
      // A full disk under a destination is no fault of the message: like a throttle it costs no
      // attempt, so a disk full for a day does not send everything to the dead letters.
      const now = clock.now();
      await store.markFailed({
        id: message.id,
        error: errorMessage(error),
        nextAttemptAt: now + DISK_FULL_WAIT_MS,
        dead: message.state === 'dead',
        now,
        countAttempt: false,
      });
      this.deps.onOutcome?.('retry', message);
      log.warn({ id: message.id, destination: message.destination, err: error }, `delivery waits: ${errorMessage(error)}`);
      return 'retried';
    }
    if (error instanceof PostroomError && error.throttling) {
      // Seed 002: a throttled wait is not a failure. It costs no attempt, never leads to the
      // dead letters, and the message goes out once the account's penalty is over.
      const now = clock.now();
      await store.markFailed({
        id: message.id,
        error: errorMessage(error),
        nextAttemptAt: now + (error.retryAfterMs ?? QUICK_BACKOFF_MS),
        dead: message.state === 'dead',
        now,
        countAttempt: false,
      });
      this.deps.onOutcome?.('retry', message);
      log.info(
        { id: message.id, destination: message.destination, until: new Date(now + (error.retryAfterMs ?? QUICK_BACKOFF_MS)).toISOString() },
        'destination account throttled: delivery waits',
      );
      return 'retried';
    }
    const attempts = message.attempts + 1;
    const retryable = !(error instanceof PostroomError) || error.retryable;
    const retryAfter = error instanceof PostroomError ? error.retryAfterMs : undefined;
    const now = clock.now();
    if (retryable && message.state === 'pending' && attempts < QUICK_ATTEMPTS) {
      const wait = retryAfter ?? backoffCeiling(attempts - 1, QUICK_BACKOFF_MS);
      await store.markFailed({ id: message.id, error: errorMessage(error), nextAttemptAt: now + wait, dead: false, now });
      this.deps.onOutcome?.('retry', message);
      log.warn({ id: message.id, destination: message.destination, attempts, err: error }, 'delivery failed; retrying');
      return 'retried';
    }
    const nextAttemptAt = this.nextDeadLetterAttempt(attempts, now, retryAfter);
    await store.markFailed({ id: message.id, error: errorMessage(error), nextAttemptAt, dead: true, now });
    const fields = {
      id: message.id,
      connection: message.connection,
      destination: message.destination,
      attempts,
      nextAttemptAt: nextAttemptAt && new Date(nextAttemptAt).toISOString(),
      err: error,
    };
    if (message.state === 'dead') {
      // Already a dead letter: counted and announced when it became one, not again per retry.
      this.deps.onOutcome?.('still-dead', message);
      log.warn(
        fields,
        nextAttemptAt
          ? 'dead letter retry failed; it stays in the dead letters until the next attempt'
          : 'dead letter retry failed; only a replay retries it now',
      );
      return 'dead';
    }
    this.deps.onOutcome?.('dead', message);
    log.error(fields, 'delivery failed: moved to dead letters (catastrophic retry); replay with `postroom dead-letters replay`');
    return 'dead';
  }

  /** The catastrophic retry schedule, counted from the attempt that made the message dead. */
  private nextDeadLetterAttempt(attempts: number, now: number, retryAfter: number | undefined): number | null {
    const schedule = this.deps.deadLetterSchedule;
    const step = Math.max(0, attempts - QUICK_ATTEMPTS);
    if (step >= schedule.length) return null;
    return now + Math.max(schedule[step]!, retryAfter ?? 0);
  }

  /** Lanes finish rounds at the same time; one sweep at a time is enough. */
  private releaseRawEmails(): Promise<void> {
    this.releasing ??= (async () => {
      const refs = await this.deps.store.releasableContent(RELEASE_BATCH);
      await Promise.all(refs.map((ref) => this.deps.contents.remove(ref)));
      await this.forgetOldDeliveries();
    })().finally(() => {
      this.releasing = undefined;
    });
    return this.releasing;
  }

  /** Without this the outbox would keep a row for every pipeline message ever delivered. */
  private async forgetOldDeliveries(): Promise<void> {
    const now = this.deps.clock.now();
    if (now - this.lastForgotten < FORGET_EVERY_MS) return;
    this.lastForgotten = now;
    // Kept contents whose time is up go first: a row is forgotten only once its content is gone.
    for (let statement = 0; statement < FORGET_STATEMENTS; statement += 1) {
      const expired = await this.deps.store.expireDeliveredContent(now, RELEASE_BATCH);
      await Promise.all(expired.map((ref) => this.deps.contents.remove(ref)));
      if (expired.length < RELEASE_BATCH) break;
    }
    const before = now - this.deps.keepDeliveredMs;
    for (let statement = 0; statement < FORGET_STATEMENTS; statement += 1) {
      if ((await this.deps.store.forgetDelivered(before, FORGET_BATCH)) < FORGET_BATCH) return;
    }
  }
}

/** Why a delivered message cannot be sent again, and what to set so the next ones can. */
export function contentGoneReason(keepDeliveredContentMs: number): string {
  return keepDeliveredContentMs > 0
    ? 'delivered, and its content was removed when outbox.keepDeliveredContent ran out; only messages delivered within that period can be replayed'
    : 'delivered, and its content was removed at delivery; set outbox.keepDeliveredContent (for example 1d) to keep delivered content for replays';
}

function laneKey(lane: DeliveryLane): string {
  return 'destination' in lane ? `destination:${lane.destination}` : 'unconfigured';
}

function addUp(total: DrainResult, round: DrainResult): DrainResult {
  total.delivered += round.delivered;
  total.retried += round.retried;
  total.dead += round.dead;
  return total;
}
