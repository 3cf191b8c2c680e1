/**
 * Runs a connection's server searches (server-search.ts) over one listing page: which of the
 * listed UIDs each one leaves out, the first that does naming the condition. A search the server
 * refuses (NO, BAD, BADCHARSET) ends the pre-selection for this listing, and every email is
 * judged by Postroom as it is without one; a search that breaks off (a dropped connection,
 * throttling) fails the listing, as any other command would.
 */
import type { ImapFlow } from 'imapflow';
import type { FilterCondition } from '../../filter/judge-email.ts';
import type { ServerSearch } from './server-search.ts';

/** Per listed UID the server's search left out: the condition and the reason. */
export type ServerVerdicts = Map<number, { condition: FilterCondition; reason: string }>;

/** `uids` ascending; `refused` hears of a search the server would not run. */
export async function preSelect(
  client: Pick<ImapFlow, 'search'>,
  searches: readonly ServerSearch[],
  uids: readonly number[],
  refused: (search: ServerSearch) => void,
): Promise<ServerVerdicts> {
  const verdicts: ServerVerdicts = new Map();
  if (!searches.length || !uids.length) return verdicts;
  // The page's UID range and no flags: an email another client marks seen between the listing's
  // search and these is not mistaken for one a key left out.
  const range = `${uids[0]}:${uids[uids.length - 1]}`;
  for (const search of searches) {
    const found = await client.search({ uid: range, ...search.query }, { uid: true });
    if (!Array.isArray(found)) {
      refused(search);
      return new Map();
    }
    const hits = new Set(found);
    for (const uid of uids) if (!verdicts.has(uid) && !hits.has(uid)) verdicts.set(uid, { condition: search.condition, reason: search.reason });
    if (verdicts.size === uids.length) break;
  }
  return verdicts;
}
