/**
 * The same IMAP drain with emails parsed on the main thread and on 1, 2 and 4 parse threads
 * (`parsing.threads`), as many as the machine has cores for, rounds interleaved: CPU per email
 * (all threads of the process), wall time and peak RSS per thread count.
 */
import os from 'node:os';
import type { Dovecot, DovecotUser } from '../../test/support/dovecot.ts';
import type { Mailbox } from '../mailbox.ts';
import { type DrainStats, drainStats } from '../report.ts';
import { type DrainOptions, type DrainSample, drainOnce } from './drain.ts';

export interface ParseThreadRow {
  threads: number;
  stats: DrainStats;
}

export interface ParseThreadResults {
  cores: number;
  rows: ParseThreadRow[];
}

/** 0 (the main thread), then 1, 2, 4 while the machine has that many cores. */
export function threadCounts(cores = os.availableParallelism()): number[] {
  return [0, ...[1, 2, 4].filter((threads) => threads <= cores)];
}

export async function parseThreadDrains(
  dovecot: Dovecot,
  user: DovecotUser,
  mailbox: Mailbox,
  cli: DrainOptions,
  rounds: number,
  say: (text: string) => void,
): Promise<ParseThreadResults> {
  const counts = threadCounts();
  const samples = new Map<number, DrainSample[]>(counts.map((threads) => [threads, []]));
  for (let round = 1; round <= rounds; round += 1) {
    for (const threads of round % 2 ? counts : [...counts].reverse()) {
      const sample = await drainOnce('postroom', 'imap', dovecot, user, mailbox, { ...cli, parseThreads: threads });
      samples.get(threads)!.push(sample);
      say(`parse threads ${threads}, run ${round}/${rounds}: ${(sample.ms / 1000).toFixed(1)} s, ${(sample.cpuMs / sample.emails).toFixed(2)} CPU ms/email`);
    }
  }
  return { cores: os.availableParallelism(), rows: counts.map((threads) => ({ threads, stats: drainStats(samples.get(threads)!) })) };
}

export function formatParseThreads(results: ParseThreadResults): string {
  const base = results.rows.find((row) => row.threads === 0)?.stats;
  const lines = results.rows.map(({ threads, stats }) => {
    const name = threads === 0 ? 'the main thread' : `${threads} parse thread${threads > 1 ? 's' : ''}`;
    const wall = base ? `${(base.medianMs / stats.medianMs).toFixed(2)}x` : '';
    // DrainStats.messagesPerSecond counts emails (the drain's unit).
    return `| ${name} | ${stats.messagesPerSecond.toFixed(1)} | ${stats.cpuMsPerEmail.toFixed(2)} | ${(stats.peakRssBytes / 2 ** 20).toFixed(0)} MB | ${wall} |`;
  });
  return [
    `Parse threads (the IMAP drain with parsing.threads set; this machine has ${results.cores} cores):`,
    '| parsed on | emails/s | CPU ms/email | peak RSS | speed vs the main thread |',
    '| --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}
