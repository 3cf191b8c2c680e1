/**
 * Child process of streams-a-50-mb-email-without-holding-it-in-memory.test.ts: runs Postroom
 * once against the POP3 connection given as JSON in argv[2] and prints one JSON line with its
 * memory before the run and the most seen during it. A child, so the test runner's own memory
 * does not blur the measurement. Needs --expose-gc.
 */
import type { ConnectionInput } from '../../src/config/schema.ts';
import { runOnce, testConfig, type Workspace } from '../support/postroom.ts';

/**
 * Each sample first collects garbage, so `live` counts what the run holds on to, not chunks V8
 * has not got round to freeing yet (it lets up to 64 MB of external memory pile up). A run
 * that held the email would hold it for seconds, so a few samples a second catch it; many more
 * would make the run mostly garbage collection on a busy machine.
 */
const SAMPLE_EVERY_MS = 250;

export interface Measured {
  /** Resident set size before the run and at its highest (freed memory may stay resident). */
  rss: { before: number; peak: number };
  /** V8 heap + Buffer memory after a collection, before the run and at its highest. */
  live: { before: number; peak: number };
  status: string | undefined;
  emails: number;
}

const input = JSON.parse(process.argv[2]!) as { ws: Workspace; connection: ConnectionInput };
const config = testConfig(input.ws, [input.connection]);
const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');

const liveNow = (): number => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};
gc();
const measured: Measured = { rss: { before: process.memoryUsage.rss(), peak: 0 }, live: { before: liveNow(), peak: 0 }, status: undefined, emails: 0 };
const sample = (): void => {
  measured.rss.peak = Math.max(measured.rss.peak, process.memoryUsage.rss());
  gc();
  measured.live.peak = Math.max(measured.live.peak, liveNow());
};
const sampler = setInterval(sample, SAMPLE_EVERY_MS);
const { polls } = await runOnce(config);
clearInterval(sampler);
sample();
const outcome = polls.get(input.connection.name);
measured.status = outcome?.status;
measured.emails = outcome?.status === 'done' ? outcome.result.emails : 0;
process.stdout.write(`${JSON.stringify(measured)}\n`);
