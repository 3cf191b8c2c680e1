/**
 * Backpressure (DESIGN "Never lose"): when a connection's outbox holds `maxPending` undelivered
 * pipeline messages, its intake pauses before the next email is committed, and goes on once
 * deliveries have made room (down to RESUME_FRACTION of it). Undelivered means pending AND dead letters: a destination that is
 * down turns pending messages into dead letters within seconds, and those fill the disk just
 * the same. Emails not taken stay on the mail server, unacknowledged, so nothing is lost.
 *
 * One log line when a connection pauses and one when it resumes, not one per check.
 */
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.ts';
import type { OutboxState, Store } from '../store/store.ts';

/** How often a paused connection looks again: deliveries free room a few at a time. */
export const ROOM_CHECK_MS = 1_000;
/**
 * A paused connection resumes once the outbox is down to this share of maxPending, not at the
 * first free slot: otherwise it would pause and resume (and log both) for every email.
 */
export const RESUME_FRACTION = 0.9;
const UNDELIVERED: readonly OutboxState[] = Object.freeze(['pending', 'dead'] as const);

export interface OutboxRoomDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  maxPending: number;
  /** Stops waiting (the worker is stopping); the caller then finishes the email in hand. */
  signal?: AbortSignal;
}

export interface RoomRequest {
  /** Pipeline messages the pickup holds ready but has not committed yet: they count too. */
  uncommitted: number;
  /**
   * Pipeline messages this pickup run has committed so far. Only the lease holder adds to a
   * connection's outbox, so the depth last counted plus what was committed since is an upper
   * bound: while it is below maxPending, no count is needed (counting is O(undelivered)).
   */
  committed: number;
  /** Commits them, before waiting: deliveries can only make room from what is committed. */
  beforeWaiting(): Promise<void>;
}

export type WaitForRoom = (connection: string, request?: RoomRequest) => Promise<void>;

/** The `waitForRoom` hook for the pickup: resolves as soon as the connection may take an email. */
export function outboxRoom(deps: OutboxRoomDeps): WaitForRoom {
  const { store, clock, log, maxPending, signal } = deps;
  /** Per connection: the last count, when it was taken, and the run's `committed` then. */
  const counted = new Map<string, { depth: number; at: number; committed: number }>();
  return async (connection, request) => {
    const last = counted.get(connection);
    if (request && last && request.committed >= last.committed && clock.now() - last.at < ROOM_CHECK_MS) {
      if (last.depth + (request.committed - last.committed) + request.uncommitted < maxPending) return;
    }
    let depth = await store.outboxDepth(connection, UNDELIVERED);
    counted.set(connection, { depth, at: clock.now(), committed: request?.committed ?? 0 });
    if (depth + (request?.uncommitted ?? 0) < maxPending) return;
    if (request) {
      await request.beforeWaiting();
      depth = await store.outboxDepth(connection, UNDELIVERED);
      if (depth < maxPending) return;
    }
    const resumeAt = Math.floor(maxPending * RESUME_FRACTION);
    const since = clock.now();
    log.warn(
      { connection, undelivered: depth, maxPending },
      'outbox full: pausing intake for this connection until deliveries make room (emails stay on the server)',
    );
    while (depth > resumeAt && !signal?.aborted) {
      await clock.sleep(ROOM_CHECK_MS, signal);
      depth = await store.outboxDepth(connection, UNDELIVERED);
    }
    log.info(
      { connection, undelivered: depth, maxPending, pausedMs: clock.now() - since },
      signal?.aborted ? 'stopping while intake was paused' : 'outbox has room again: intake resumed',
    );
  };
}
