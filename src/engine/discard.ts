/**
 * Discarding dead letters by hand (API, CLI): an operator gives up on them for good. Nothing is
 * deleted silently: the store marks each `discarded` with who did it in the email trail (the row
 * is kept for `outbox.keepDelivered`, like a delivered one, then forgotten); here their content
 * goes, and so does the raw email of any email that now needs nothing more.
 */
import type { ContentStore } from '../model/content-store.ts';
import type { Store } from '../store/store.ts';

/** Raw emails released per call; the delivery loop's sweeps take any left over. */
const RELEASE_BATCH = 200;

export interface DiscardReport {
  /** The ids discarded, in the order asked. */
  discarded: string[];
  /** Asked for but not discarded: no dead letter has that id (any more), or a worker is delivering it right now. */
  notDiscarded: string[];
}

export async function discardDeadLetters(
  deps: { store: Store; contents: ContentStore },
  ids: readonly string[],
  now: number,
  by: string,
): Promise<DiscardReport> {
  const unique = [...new Set(ids)];
  const discarded = await deps.store.discardDeadLetters(unique, now, by);
  await Promise.all(discarded.map((message) => deps.contents.remove(message.contentRef)));
  const rawEmails = await deps.store.releasableContent(RELEASE_BATCH);
  await Promise.all(rawEmails.map((ref) => deps.contents.remove(ref)));
  const done = new Set(discarded.map((message) => message.id));
  return { discarded: unique.filter((id) => done.has(id)), notDiscarded: unique.filter((id) => !done.has(id)) };
}
