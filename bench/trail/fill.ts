/** Fills a store with the corpus by bulk inserts straight into its tables (not through the engine): a million emails in a minute or two. */
import { performance } from 'node:perf_hooks';
import type { BenchBackend } from './backends.ts';
import { type CorpusOptions, type CorpusSummary, corpus, type Probe } from './corpus.ts';

/** Emails per batch: one transaction (SQLite) or one statement per table (PostgreSQL). */
const BATCH = 5000;

export interface Filled {
  ms: number;
  summary: CorpusSummary;
  probes: Probe[];
}

export async function fill(backend: BenchBackend, options: CorpusOptions, say: (text: string) => void): Promise<Filled> {
  const { batches, probes, summary } = corpus(options, BATCH);
  const began = performance.now();
  let next = 100_000;
  for (const batch of batches) {
    await backend.insert('ledger', batch.ledger);
    if (batch.outbox.length > 0) await backend.insert('outbox', batch.outbox);
    if (batch.attempts.length > 0) await backend.insert('delivery_attempts', batch.attempts);
    if (summary.emails >= next) {
      say(`${backend.name}: ${summary.emails.toLocaleString('en')} emails in ${((performance.now() - began) / 1000).toFixed(0)} s`);
      next += 100_000;
    }
  }
  await backend.settle();
  return { ms: performance.now() - began, summary, probes };
}
