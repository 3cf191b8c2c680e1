/** Discards dead letters for the API and says which it did (see engine/discard.ts). */
import { discardDeadLetters } from '../engine/discard.ts';
import type { ApiContext } from './route.ts';
import type { DiscardResult } from './schemas.ts';

/** Who the email trail says discarded them. */
export const DISCARDED_BY = 'the API';

export async function discardDeadLettersNow(context: ApiContext, ids: readonly string[]): Promise<DiscardResult> {
  const { opened, clock, log } = context;
  const report = await discardDeadLetters({ store: opened.store, contents: opened.content }, ids, clock.now(), DISCARDED_BY);
  if (report.discarded.length) log.info({ ids: report.discarded, by: DISCARDED_BY }, 'dead letters discarded');
  return { discarded: report.discarded.length, ids: report.discarded, notDiscarded: report.notDiscarded };
}
