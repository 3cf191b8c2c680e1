/**
 * The searches an operator makes in the email trail ("where did my email go?"), each timed
 * through the Store over several rounds, each round looking for a different email of the corpus
 * (its probes), after one uncounted warm-up round.
 */
import { performance } from 'node:perf_hooks';
import type { Store, TrailQuery } from '../../src/store/store.ts';
import type { Probe } from './corpus.ts';

const DAY = 86_400_000;

export interface Search {
  name: string;
  /** The searchEmails query for this round's email; absent for the emailTrail lookup. */
  query?: (probe: Probe) => TrailQuery;
  /** Probes with pipeline messages still in the outbox only (the trail lookup). */
  keptOnly?: boolean;
}

const oneDay = (probe: Probe): { since: number; until: number } => {
  const since = Math.floor(probe.emittedAt / DAY) * DAY;
  return { since, until: since + DAY };
};
/** Part of the address: without its top-level domain, as someone types what they remember. */
const partOf = (address: string): string => address.slice(0, address.lastIndexOf('.'));

export const SEARCHES: Search[] = [
  { name: 'by Message-ID', query: (p) => ({ messageId: p.messageId }) },
  { name: 'by sender (part of the address)', query: (p) => ({ from: partOf(p.address) }) },
  { name: 'by subject word (a reference, one email)', query: (p) => ({ subject: p.reference }) },
  { name: 'free text (company + "invoice")', query: (p) => ({ text: `${p.company} invoice` }) },
  { name: 'free text, nothing matches', query: () => ({ text: 'no-such-word-anywhere' }) },
  { name: 'one day (date range)', query: (p) => oneDay(p) },
  { name: 'subject word within one day', query: (p) => ({ subject: p.reference, ...oneDay(p) }) },
  { name: 'state = dead', query: () => ({ state: 'dead' }) },
  { name: 'state = retrying', query: () => ({ state: 'retrying' }) },
  { name: 'connection + one day', query: (p) => ({ connection: p.connection, ...oneDay(p) }) },
  { name: 'emailTrail (one email, kept messages)', keptOnly: true },
];

export interface Timing {
  search: string;
  rounds: number;
  medianMs: number;
  p95Ms: number;
  /** Emails found (median over the rounds; the trail lookup: its delivery attempts). */
  found: number;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/** A search slower than this in its warm-up round is measured over fewer rounds. */
const SLOW_MS = 5000;

export async function timeSearch(store: Store, search: Search, probes: Probe[], rounds: number): Promise<Timing> {
  const pool = search.keptOnly ? probes.filter((p) => p.kept) : probes;
  if (pool.length === 0) throw new Error(`no probe for "${search.name}"`);
  const once = async (round: number): Promise<{ ms: number; found: number }> => {
    // Spread over the corpus: each round another email, the same ones on every backend.
    const probe = pool[(round * 7919) % pool.length]!;
    const began = performance.now();
    let found: number;
    if (search.query) found = (await store.searchEmails(search.query(probe))).emails.length;
    else {
      const trail = await store.emailTrail(probe.connection, probe.sourceKey);
      if (!trail) throw new Error(`emailTrail found nothing for ${probe.connection} ${probe.sourceKey}`);
      found = trail.attempts.length;
    }
    return { ms: performance.now() - began, found };
  };
  const warm = await once(rounds);
  const n = warm.ms > SLOW_MS ? Math.min(rounds, 3) : rounds;
  const samples: Array<{ ms: number; found: number }> = [];
  for (let round = 0; round < n; round += 1) samples.push(await once(round));
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const found = samples.map((s) => s.found).sort((a, b) => a - b);
  return { search: search.name, rounds: n, medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95), found: quantile(found, 0.5) };
}
