/**
 * Pre-selection on the server (IMAP SEARCH, RFC 3501 6.4.4): the filter conditions a search key
 * can pre-select, each translated into a key that every email the condition takes is sure to
 * match. A listed UID the key does not find is then certainly left out by that condition, and is
 * left without its headers being read; what the key finds is judged by Postroom as before, since
 * server search is substring and case-folding while a glob matches the whole text.
 *
 * So a key is only ever weaker than its condition: a glob gives its longest run of plain ASCII
 * characters (no `*`, `?` or space; non-ASCII text is left out, as servers fold its case
 * differently), several globs an OR of theirs. A condition no key is sure to cover (a /regex/, a
 * glob without a run of MIN_RUN characters, attachments, auto-replies, bounces) is not pushed.
 *
 * Only with `filtered: leave` (docs/decisions.md): a server that is wrong leaves an email unread
 * where it is, for `postroom rescan` to judge again; it never has it marked read, moved or deleted.
 */
import type { SearchObject } from 'imapflow';
import type { FilterConfig } from '../../config/filter-schema.ts';
import type { ConnectionConfig } from '../../config/schema.ts';
import { isRegexPattern } from '../../config/text-pattern.ts';
import type { FilterCondition } from '../../filter/judge-email.ts';

/** A shorter plain run pre-selects too little to be worth a search ("a*", "*.de"). */
export const MIN_RUN = 3;

export interface ServerSearch {
  condition: FilterCondition;
  /** The key as imapflow's search() takes it; the session adds the UID range. */
  query: SearchObject;
  /** The key in IMAP's words, e.g. `FROM "@supplier.example" or FROM "billing@"`. */
  keys: string;
  /** Why a listed email this search does not find is left out: the ledger's, preview's and the trail's reason. */
  reason: string;
}

export interface ServerSearchPlan {
  /** The searches to make, in the judge's order of conditions; empty when nothing is pushed. */
  searches: ServerSearch[];
  /** Conditions given but not pushed, and why (`postroom validate` says so). */
  notPushed: Array<{ condition: FilterCondition; why: string }>;
  /** Why the connection pushes nothing at all, when it does not. */
  off?: string;
}

const quoteList = (patterns: readonly string[]): string => patterns.map((p) => JSON.stringify(p)).join(', ');

/** The longest run of a glob that any text it matches contains, ignoring case; undefined when none is long enough. */
export function plainRun(pattern: string): string | undefined {
  if (isRegexPattern(pattern)) return undefined;
  const longest = pattern.split(/[*?]|[^\x21-\x7e]/).reduce((best, run) => (run.length > best.length ? run : best), '');
  return longest.length >= MIN_RUN ? longest : undefined;
}

type TextKey = { words: (run: string) => string; alternatives: (run: string) => SearchObject[] };

const TEXT_KEYS: Record<'from' | 'to' | 'subject', TextKey> = {
  from: { words: (run) => `FROM ${JSON.stringify(run)}`, alternatives: (run) => [{ from: run }] },
  // The recipients the judge reads: To, Cc and Delivered-To.
  to: {
    words: (run) => `TO, CC or HEADER Delivered-To ${JSON.stringify(run)}`,
    alternatives: (run) => [{ to: run }, { cc: run }, { header: { 'Delivered-To': run } }],
  },
  subject: { words: (run) => `SUBJECT ${JSON.stringify(run)}`, alternatives: (run) => [{ subject: run }] },
};

function textSearch(condition: 'from' | 'to' | 'subject', patterns: readonly string[]): ServerSearch | { why: string } {
  const runs: string[] = [];
  for (const pattern of patterns) {
    if (isRegexPattern(pattern)) return { why: `${JSON.stringify(pattern)} is a /regex/, which SEARCH cannot express` };
    const run = plainRun(pattern);
    if (!run) return { why: `${JSON.stringify(pattern)} has no run of ${MIN_RUN} or more plain ASCII characters (without * ? or spaces) to search for` };
    if (!runs.some((known) => known.toLowerCase() === run.toLowerCase())) runs.push(run);
  }
  const key = TEXT_KEYS[condition];
  const alternatives = runs.flatMap(key.alternatives);
  const keys = runs.map(key.words).join(' or ');
  return {
    condition,
    query: alternatives.length === 1 ? alternatives[0]! : { or: alternatives },
    keys,
    reason: `the server's SEARCH ${keys} found no match for ${quoteList(patterns)} (its headers were not read)`,
  };
}

function sizeSearch(condition: 'maxSize' | 'minSize', bytes: number): ServerSearch | { why: string } {
  // maxSize holds for size <= n, and SMALLER n means size < n; minSize for size >= n, LARGER n for size > n.
  if (condition === 'maxSize') {
    const keys = `SMALLER ${bytes + 1}`;
    return {
      condition,
      query: { smaller: bytes + 1 },
      keys,
      reason: `the server's SEARCH ${keys} found no match for maxSize ${bytes} bytes (its headers were not read)`,
    };
  }
  if (bytes <= 1) return { why: 'every email is at least that big' };
  const keys = `LARGER ${bytes - 1}`;
  return {
    condition,
    query: { larger: bytes - 1 },
    keys,
    reason: `the server's SEARCH ${keys} found no match for minSize ${bytes} bytes (its headers were not read)`,
  };
}

const NOT_SEARCHABLE: Partial<Record<FilterCondition, string>> = {
  hasAttachments: 'SEARCH has no key for attachments',
  attachmentTypes: 'SEARCH has no key for attachments',
  autoReplies: 'auto-replies are told by several headers and their values, which SEARCH cannot weigh',
  bounces: 'a bounce is told by its content type, which SEARCH has no key for',
};

/** What the filter pre-selects on the server, in the judge's order of conditions. */
export function searchesOf(filter: FilterConfig): Pick<ServerSearchPlan, 'searches' | 'notPushed'> {
  const searches: ServerSearch[] = [];
  const notPushed: ServerSearchPlan['notPushed'] = [];
  const add = (condition: FilterCondition, outcome: ServerSearch | { why: string }): void => {
    if ('why' in outcome) notPushed.push({ condition, why: outcome.why });
    else searches.push(outcome);
  };
  for (const condition of ['from', 'to', 'subject'] as const) {
    const patterns = filter[condition];
    if (patterns) add(condition, textSearch(condition, patterns));
  }
  if (filter.maxSize !== undefined) add('maxSize', sizeSearch('maxSize', filter.maxSize));
  if (filter.minSize !== undefined) add('minSize', sizeSearch('minSize', filter.minSize));
  if (filter.hasAttachments !== undefined) notPushed.push({ condition: 'hasAttachments', why: NOT_SEARCHABLE.hasAttachments! });
  if (filter.attachmentTypes) notPushed.push({ condition: 'attachmentTypes', why: NOT_SEARCHABLE.attachmentTypes! });
  if (filter.autoReplies === 'skip') notPushed.push({ condition: 'autoReplies', why: NOT_SEARCHABLE.autoReplies! });
  if (filter.bounces === 'skip') notPushed.push({ condition: 'bounces', why: NOT_SEARCHABLE.bounces! });
  return { searches, notPushed };
}

/** Whether, and with which searches, the connection pre-selects on the server. */
export function serverSearchPlan(connection: ConnectionConfig): ServerSearchPlan {
  const off = (why: string): ServerSearchPlan => ({ searches: [], notPushed: [], off: why });
  if (connection.hostType !== 'imap') return off('only IMAP pre-selects on the server');
  if (!connection.filter) return off('the connection has no filter');
  if (connection.filterOnServer === false) return off('filterOnServer: false');
  if (connection.filtered !== 'leave') {
    const filtered = typeof connection.filtered === 'string' ? connection.filtered : `moveTo ${connection.filtered.moveTo}`;
    return off(`filtered: ${filtered} acts on every email left out, so Postroom judges each one itself (pre-selection needs filtered: leave)`);
  }
  return searchesOf(connection.filter);
}
