/**
 * One poll of one connection, as the scheduler and `run --once` do it: respect a shared throttle,
 * take the lease, run the pickup, record the outcome and decide when the connection is due next
 * (after a failed poll the connection is due again after the retry interval, whatever its polling
 * interval: a failing hourly connection is retried every minute until it succeeds).
 */
import type { Logger } from 'pino';
import type { Config, ConnectionConfig } from '../config/schema.ts';
import type { Clock } from '../model/clock.ts';
import type { ContentStore } from '../model/content-store.ts';
import { errorMessage, isPostroomError, PostroomError } from '../model/errors.ts';
import { loadSource } from '../sources/registry.ts';
import type { Store, ThrottleState } from '../store/store.ts';
import { throttleAccount } from '../throttle/account.ts';
import { accountPause } from '../throttle/account-pause.ts';
import { throttleDecision } from '../throttle/throttle-decision.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { type PickupDeps, type PickupResult, pickedUpBefore, runPickup } from './pickup.ts';
import { failSpan, inSpan } from './traces.ts';

/** Pages in a row a poll goes on with when they only acknowledge emails committed before. */
const MAX_PAGES_ONLY_ACKNOWLEDGED = 3;

/**
 * A source that takes a mailbox a page at a time (Graph, IMAP, POP3) says when more is waiting: the poll
 * goes on with the next page under the same lease, each page committed and acknowledged before
 * the next is listed, so a throttle, crash or handover costs at most the page in hand. It stops
 * when the source has no more, another worker's throttle pauses the account, the worker stops,
 * or a page brought nothing new (emails that keep failing must not make it list forever).
 */
async function pickUpPageByPage(
  connection: ConnectionConfig,
  keeper: LeaseKeeper,
  deps: PickupDeps,
  paused: () => Promise<ThrottleState | undefined>,
): Promise<PickupResult> {
  let total: PickupResult | undefined;
  /** Pages in a row that only acknowledged emails committed before (a POP3 session cut before QUIT). */
  let onlyAcknowledged = 0;
  for (;;) {
    let page: PickupResult;
    try {
      page = await runPickup(connection, keeper, deps);
    } catch (error) {
      // What this and earlier pages committed stands; the poll reports it with what stopped it.
      const partial = typeof error === 'object' && error !== null ? pickedUpBefore.get(error) : undefined;
      if (partial?.backlog !== undefined) await deps.store.recordBacklog(connection.name, stillWaiting(partial), deps.clock.now());
      const sum = total && partial ? sumPickups(total, partial) : (total ?? partial);
      if (sum && typeof error === 'object' && error !== null) pickedUpBefore.set(error, sum);
      throw error;
    }
    if (page.backlog !== undefined) await deps.store.recordBacklog(connection.name, stillWaiting(page), deps.clock.now());
    total = total ? sumPickups(total, page) : page;
    // A page of emails committed before and now only acknowledged made progress too (their
    // deletes are durable), but a few in a row, not for ever: an acknowledgement the server
    // takes without effect must not keep the poll listing.
    onlyAcknowledged = page.emails + page.filtered === 0 && page.alreadyEmitted > 0 ? onlyAcknowledged + 1 : 0;
    const progressed = page.emails + page.filtered > 0 || (onlyAcknowledged > 0 && onlyAcknowledged <= MAX_PAGES_ONLY_ACKNOWLEDGED);
    if (!page.more || !progressed || page.throttledUntil !== undefined || deps.signal?.aborted) return total;
    const throttle = await paused();
    if (throttle) return { ...total, throttledUntil: throttle.until };
  }
}

/** What a listing said was waiting, less what its page then took (status shows how far behind the mailbox is). */
function stillWaiting(page: PickupResult): number {
  return Math.max(0, (page.backlog ?? 0) - page.emails - page.alreadyEmitted - page.remapped - page.filtered);
}

/** Two pickups of one connection as one (pages of a poll, polls of a run). */
export function sumPickups(total: PickupResult, page: PickupResult): PickupResult {
  return {
    listed: total.listed + page.listed,
    emails: total.emails + page.emails,
    messages: total.messages + page.messages,
    alreadyEmitted: total.alreadyEmitted + page.alreadyEmitted,
    remapped: total.remapped + page.remapped,
    acknowledged: total.acknowledged + page.acknowledged,
    filtered: total.filtered + page.filtered,
    filteredBy: Object.fromEntries(
      [...new Set([...Object.keys(total.filteredBy), ...Object.keys(page.filteredBy)])].map((condition) => [
        condition,
        (total.filteredBy[condition] ?? 0) + (page.filteredBy[condition] ?? 0),
      ]),
    ),
    failures: [...total.failures, ...page.failures],
    ...(page.throttledUntil !== undefined ? { throttledUntil: page.throttledUntil } : {}),
    ...(page.more ? { more: true } : {}),
    ...(page.backlog !== undefined ? { backlog: page.backlog } : {}),
  };
}

export type PollOutcome =
  | { status: 'done'; result: PickupResult }
  | { status: 'failed'; error: PostroomError; result?: PickupResult }
  | { status: 'throttled'; until: number; reason: string; result?: PickupResult }
  | { status: 'leased-elsewhere'; holder: string; until: number };

export interface PollDeps {
  store: Store;
  contents: ContentStore;
  clock: Clock;
  log: Logger;
  holder: string;
  config: Pick<Config, 'retry' | 'throttle'>;
  signal?: AbortSignal;
  onProgress?: PickupDeps['onProgress'];
  onCommitted?: PickupDeps['onCommitted'];
  waitForRoom?: PickupDeps['waitForRoom'];
  parser?: PickupDeps['parser'];
  /** The last lease this worker took per connection; released when the worker stops. */
  held?: Map<string, LeaseKeeper>;
}

export async function pollConnection(connection: ConnectionConfig, deps: PollDeps): Promise<PollOutcome> {
  return inSpan('postroom.poll', { 'postroom.connection': connection.name, 'postroom.protocol': connection.hostType }, async (span) => {
    const outcome = await pollOnce(connection, deps).catch((caught: unknown) => unrecorded(caught, deps.log));
    span.setAttribute('postroom.poll.status', outcome.status);
    if (outcome.status === 'done') span.setAttributes({ 'postroom.poll.emails': outcome.result.emails, 'postroom.poll.messages': outcome.result.messages });
    if (outcome.status === 'failed') failSpan(span, outcome.error);
    return outcome;
  });
}

/**
 * A poll that failed where even its failure could not be recorded: the store itself failed (a
 * full disk, PostgreSQL restarting) while taking the lease or recording the outcome. Nothing was
 * committed that is not acknowledged later, so it is only logged; the scheduler tries again.
 */
function unrecorded(caught: unknown, log: Logger): PollOutcome {
  const error = isPostroomError(caught) ? caught : new PostroomError('STORE_FAILED', errorMessage(caught), { cause: caught });
  log.error({ code: error.code, err: error }, `poll failed: ${error.explain()}`);
  return { status: 'failed', error };
}

async function pollOnce(connection: ConnectionConfig, deps: PollDeps): Promise<PollOutcome> {
  const { store, clock, log, holder } = deps;
  const account = throttleAccount(connection);
  const startedAt = clock.now();
  const pause = accountPause(store, () => clock.now());

  const throttle = await pause.record(account);
  if (throttle && throttle.until > startedAt) {
    await store.setNextDue(connection.name, throttle.until);
    return { status: 'throttled', until: throttle.until, reason: throttle.reason };
  }

  const keeper = await LeaseKeeper.acquire(store, clock, log, connection.name, holder, connection.pollingInterval, connection.useProcessLock);
  if (!keeper) {
    const lease = (await store.listLeases()).find((l) => l.connection === connection.name);
    return { status: 'leased-elsewhere', holder: lease?.holder ?? 'another worker', until: lease?.expiresAt ?? startedAt };
  }
  deps.held?.set(connection.name, keeper);
  // Other workers leave this connection alone until the lease could have run out.
  await store.setNextDue(connection.name, keeper.current.expiresAt);
  // "Polling now" on the status board, for every worker and shell (recordPoll clears it).
  await store.markPolling(connection.name, holder, startedAt);

  const record = async (
    ok: boolean,
    result: PickupResult | undefined,
    error: string | null,
    nextDueAt: number,
    errorCode: string | null = null,
    throttled = false,
  ): Promise<void> => {
    await store.recordPoll(
      {
        connection: connection.name,
        holder,
        startedAt,
        finishedAt: clock.now(),
        ok,
        emails: result?.emails ?? 0,
        messages: result?.messages ?? 0,
        error,
        errorCode,
        throttled,
      },
      nextDueAt,
    );
  };

  try {
    const pickupDeps: PickupDeps = {
      store,
      contents: deps.contents,
      clock,
      log,
      source: await loadSource(connection.hostType),
      ...(deps.signal ? { signal: deps.signal } : {}),
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      ...(deps.onCommitted ? { onCommitted: deps.onCommitted } : {}),
      ...(deps.waitForRoom ? { waitForRoom: deps.waitForRoom } : {}),
      ...(deps.parser ? { parser: deps.parser } : {}),
    };
    const result = await pickUpPageByPage(connection, keeper, pickupDeps, () => pause.current(account));
    if (throttle) {
      await pause.resume(account);
      log.info({ account, throttledSince: new Date(throttle.since).toISOString() }, 'throttling ended: reading resumed');
    }
    const nextDueAt = result.throttledUntil ?? clock.now() + connection.pollingInterval;
    await record(
      true,
      result,
      result.failures.length ? `${result.failures.length} email(s) could not be fetched; first: ${result.failures[0]!.error}` : null,
      nextDueAt,
    );
    // Success is not silent: one line per poll that took mail, none for an empty one.
    if (result.emails > 0)
      log.info(
        { emails: result.emails, messages: result.messages, durationMs: clock.now() - startedAt },
        `poll took ${result.emails} email(s): ${result.messages} pipeline message(s)`,
      );
    return { status: 'done', result };
  } catch (caught) {
    const error = isPostroomError(caught) ? caught : new PostroomError('FETCH_FAILED', errorMessage(caught), { cause: caught });
    const partial = typeof caught === 'object' && caught !== null ? pickedUpBefore.get(caught) : undefined;
    if (error.code === 'LEASE_LOST') {
      // Not a fault: the run outlived its lease and another worker is reading the mailbox now
      // (leasing as designed). What this run committed stands; the new holder schedules the next poll.
      const lease = (await store.listLeases()).find((l) => l.connection === connection.name);
      log.info({ newHolder: lease?.holder }, 'lease handed over mid-run: another worker goes on with this mailbox');
      return { status: 'leased-elsewhere', holder: lease?.holder ?? 'another worker', until: lease?.expiresAt ?? clock.now() };
    }
    const previous = await store.getConnectionState(connection.name);
    const decision = throttleDecision(error, connection, deps.config.throttle, {
      consecutive: throttle?.consecutive ?? 0,
      now: clock.now(),
      workedBefore: !!previous?.lastPoll?.ok,
    });
    if (decision.throttled) {
      const { until } = await pause.pause(account, decision.waitMs, decision.reason);
      log.warn(
        { account, protocol: connection.hostType, reason: decision.reason, until: new Date(until).toISOString() },
        'account throttled by the provider: every worker pauses reading it',
      );
      log.debug({ account, at: new Date(clock.now()).toISOString(), retryIntervalMs: decision.waitMs, waitSource: decision.waitSource }, 'throttling info');
      // Throttled waits are not failures: the poll is recorded as ok, due again after the wait.
      await record(true, partial, `throttled: ${decision.reason}`, until, null, true);
      return { status: 'throttled', until, reason: decision.reason, ...(partial ? { result: partial } : {}) };
    }
    const nextDueAt = clock.now() + deps.config.retry.interval;
    await record(false, partial, error.explain(), nextDueAt, error.code);
    log.error({ code: error.code, err: error, nextPollAt: new Date(nextDueAt).toISOString() }, `poll failed: ${error.explain()}`);
    return { status: 'failed', error, ...(partial ? { result: partial } : {}) };
  } finally {
    await store.markPolling(connection.name, holder, null).catch(() => undefined);
    await keeper.finish(startedAt, connection.pollingInterval);
  }
}
