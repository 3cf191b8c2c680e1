/**
 * `npm run bench -- trail`: how fast the email trail's searches are in a store holding a million
 * emails, on SQLite (a temporary file) and PostgreSQL (a schema of its own on 127.0.0.1:5432,
 * dropped at the end). Each store is created by its own migrations, then filled by bulk inserts
 * straight into its tables (bench/trail/corpus.ts says what the emails look like), then searched
 * through the Store as the API and the CLI do: median and p95 ms per search, the store's size on
 * disk and how long the fill took. A search slower than BENCH_TRAIL_EXPLAIN_MS has its plan
 * printed (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).
 *
 *   BENCH_TRAIL_EMAILS (default 1000000), BENCH_TRAIL_CONNECTIONS (20), BENCH_TRAIL_SENDERS (3000),
 *   BENCH_TRAIL_DAYS (70, the newest 7 still in the outbox as outbox.keepDelivered's default
 *   keeps them), BENCH_TRAIL_ROUNDS (11), BENCH_TRAIL_BACKENDS (sqlite,postgres),
 *   BENCH_TRAIL_EXPLAIN_MS (200). POSTROOM_TEST_PG names another PostgreSQL database.
 *
 * Prints a table and writes bench-results/trail-latest.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { CompiledQuery } from 'kysely';
import { openStore } from '../src/store/open-store.ts';
import { trailQueries } from '../src/store/sql/trail.ts';
import { REPO_ROOT } from './child-process.ts';
import { type BenchBackend, postgresBackend, sqliteBackend } from './trail/backends.ts';
import type { Probe } from './trail/corpus.ts';
import { type Filled, fill } from './trail/fill.ts';
import { SEARCHES, type Search, type Timing, timeSearch } from './trail/searches.ts';

const EMAILS = Number(process.env.BENCH_TRAIL_EMAILS ?? 1_000_000);
const CONNECTIONS = Number(process.env.BENCH_TRAIL_CONNECTIONS ?? 20);
const SENDERS = Number(process.env.BENCH_TRAIL_SENDERS ?? 3000);
const DAYS = Number(process.env.BENCH_TRAIL_DAYS ?? 70);
const ROUNDS = Number(process.env.BENCH_TRAIL_ROUNDS ?? 11);
const EXPLAIN_MS = Number(process.env.BENCH_TRAIL_EXPLAIN_MS ?? 200);
const BACKENDS = (process.env.BENCH_TRAIL_BACKENDS ?? 'sqlite,postgres').split(',');

const say = (text: string): void => void process.stderr.write(`bench trail: ${text}\n`);

interface Result {
  backend: string;
  fillMs: number;
  sizeBytes: number;
  summary: Filled['summary'];
  timings: Timing[];
  plans: Record<string, string[]>;
}

/** The plan of the search's main statement (the first it runs), as the backend's planner sees it. */
async function planOf(backend: BenchBackend, search: Search, probe: Probe): Promise<string[]> {
  const seen: CompiledQuery[] = [];
  await trailQueries(backend.watched((query) => seen.push(query))).searchEmails(search.query!(probe));
  return seen[0] ? backend.explain(seen[0]) : [];
}

async function measure(backend: BenchBackend): Promise<Result> {
  say(`${backend.name}: filling ${EMAILS.toLocaleString('en')} emails over ${DAYS} days, ${CONNECTIONS} connections, ${SENDERS} senders`);
  const filled = await fill(
    backend,
    { emails: EMAILS, connections: CONNECTIONS, senders: SENDERS, days: DAYS, keptDays: Math.max(1, Math.round(DAYS / 10)), now: Date.now() },
    say,
  );
  const sizeBytes = await backend.sizeBytes();
  say(`${backend.name}: filled in ${(filled.ms / 1000).toFixed(1)} s, ${(sizeBytes / 2 ** 20).toFixed(0)} MB`);
  const { store } = await openStore(backend.location);
  const timings: Timing[] = [];
  const plans: Record<string, string[]> = {};
  try {
    for (const search of SEARCHES) {
      const timing = await timeSearch(store, search, filled.probes, ROUNDS);
      timings.push(timing);
      say(`${backend.name}: ${search.name}: median ${timing.medianMs.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms, ${timing.found} found`);
      if (timing.medianMs > EXPLAIN_MS && search.query) {
        plans[search.name] = await planOf(backend, search, filled.probes[0]!);
        say(`${backend.name}: plan of "${search.name}":\n    ${plans[search.name]!.join('\n    ')}`);
      }
    }
  } finally {
    await store.close();
  }
  return { backend: backend.name, fillMs: filled.ms, sizeBytes, summary: filled.summary, timings, plans };
}

const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));

function table(results: Result[]): string {
  const header = `| search | ${results.map((r) => `${r.backend} median ms | p95 ms | found`).join(' | ')} |`;
  const rule = `|---|${results.map(() => '---|---|---').join('|')}|`;
  const rows = SEARCHES.map((search) => {
    const cells = results.map((r) => {
      const t = r.timings.find((timing) => timing.search === search.name)!;
      return `${ms(t.medianMs)} | ${ms(t.p95Ms)} | ${t.found}${t.rounds < ROUNDS ? ` (${t.rounds} rounds)` : ''}`;
    });
    return `| ${search.name} | ${cells.join(' | ')} |`;
  });
  const fillRow = `| fill (bulk inserts, then ${results.map((r) => (r.backend === 'SQLite' ? 'WAL checkpoint' : 'VACUUM ANALYZE')).join(' / ')}) | ${results.map((r) => `${(r.fillMs / 1000).toFixed(0)} s | | `).join(' | ')} |`;
  const sizeRow = `| size on disk | ${results.map((r) => `${(r.sizeBytes / 2 ** 20).toFixed(0)} MB | | `).join(' | ')} |`;
  return [header, rule, ...rows, fillRow, sizeRow].join('\n');
}

async function main(): Promise<void> {
  const began = Date.now();
  const results: Result[] = [];
  for (const name of BACKENDS) {
    const backend = name === 'postgres' ? await postgresBackend() : await sqliteBackend();
    try {
      results.push(await measure(backend));
    } finally {
      await backend.dispose();
    }
  }
  const s = results[0]?.summary;
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, load: os.loadavg()[0] ?? 0 };
  const dir = join(REPO_ROOT, 'bench-results');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'trail-latest.json'),
    `${JSON.stringify({ startedAt: new Date(began).toISOString(), machine, rounds: ROUNDS, results }, null, 2)}\n`,
  );
  process.stdout.write(
    [
      `Email trail search, ${EMAILS.toLocaleString('en')} emails (${machine.cores} cores, load ${machine.load.toFixed(1)}, ${new Date().toISOString().slice(0, 10)}; medians of ${ROUNDS} rounds, each another email)`,
      s
        ? `${s.filtered.toLocaleString('en')} filtered, ${s.distinctSenders.toLocaleString('en')} senders, ${s.outboxRows.toLocaleString('en')} outbox rows, ${s.attemptRows.toLocaleString('en')} delivery attempts, ${s.deadEmails} emails with a dead letter, ${s.pendingEmails} waiting`
        : '',
      '',
      table(results),
      '',
      'Written to bench-results/trail-latest.json.',
      '',
    ].join('\n'),
  );
}

await main();
