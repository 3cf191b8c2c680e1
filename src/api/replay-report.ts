/**
 * Replays pipeline messages (dead letters, or delivered ones whose content is kept) and says what
 * happened to each (delivered, or failed again with the reason and the next attempt), rather than
 * only that they were made due. With no worker in this process they are made due now and
 * reported as queued.
 */
import type { ReplayOutcome } from '../engine/delivery.ts';
import type { ApiContext } from './route.ts';
import type { ReplayResult } from './schemas.ts';

/** Who the email trail says asked for the replay. */
const REPLAYED_BY = 'the API';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export async function replayNow(context: ApiContext, ids: string[]): Promise<ReplayResult> {
  const { opened, clock, worker } = context;
  let outcomes: ReplayOutcome[];
  if (worker) outcomes = await worker.delivery.replay(ids, REPLAYED_BY);
  else {
    await opened.store.reopenDelivered(ids, clock.now());
    await opened.store.recordReplay(ids, clock.now(), REPLAYED_BY);
    await opened.store.replayDeadLetters(ids, clock.now());
    outcomes = ids.map((id) => ({ id, outcome: 'queued', error: null, nextAttemptAt: null, attempts: 0 }));
  }
  const results = outcomes.map((outcome) => ({ ...outcome, nextAttemptAt: iso(outcome.nextAttemptAt) }));
  return {
    replayed: results.length,
    delivered: results.filter((result) => result.outcome === 'delivered').length,
    failed: results.filter((result) => result.outcome === 'failed').length,
    results,
  };
}
