/**
 * `npm run bench -- graph`: Microsoft Graph intake against the Graph-shaped fake, by the built CLI.
 *
 *   1. A 10,000-email mailbox at Graph's largest page (1000), no throttling: requests per email
 *      (HTTP round trips, and Outlook requests, which are what the budget counts), wall time and
 *      CPU per email, with the request budget raised out of the way (Postroom's own speed). With
 *      BENCH_GRAPH_PACED=1 also under Graph's real budget, which the fake enforces: 10,000 emails
 *      need about 20,500 requests, so that drain takes two 10-minute windows by design.
 *      BENCH_GRAPH_BEFORE=1 leaves requestBudget out of the config (for code that predates it).
 *   2. The throttled mailbox: 500 unread, pages of 7, a 429 ApplicationThrottled on every 9th
 *      request with Retry-After 1 s: drained by repeated `run --once` and by the service, with the
 *      fake checking that no request arrives inside a Retry-After window.
 *
 * BENCH_GRAPH_EMAILS (default 10000), BENCH_GRAPH_THROTTLED (default 500) and BENCH_GRAPH_MAX_S
 * (give up a drain after this, default 900) change the sizes; BENCH_GRAPH_CONFIG adds top-level
 * config as JSON. Prints a table and writes bench-results/graph-latest.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { BUILT_ENTRY, buildCli } from './build-cli.ts';
import { POSTROOM_BIN, REPO_ROOT } from './child-process.ts';
import { formatGraphTable, GRAPH_BUDGET, type GraphDrainResult, type GraphScenario, graphDrain } from './scenarios/graph-drain.ts';

const EMAILS = Number(process.env.BENCH_GRAPH_EMAILS ?? 10_000);
const THROTTLED = Number(process.env.BENCH_GRAPH_THROTTLED ?? 500);
const MAX_MS = Number(process.env.BENCH_GRAPH_MAX_S ?? 900) * 1000;
const CONFIG = process.env.BENCH_GRAPH_CONFIG ? (JSON.parse(process.env.BENCH_GRAPH_CONFIG) as Record<string, unknown>) : undefined;
const ONLY = process.env.BENCH_GRAPH_ONLY?.split(',');
const say = (text: string): void => void process.stderr.write(`bench: ${text}\n`);

/** Far above any drain here: Postroom's speed without its pacing (set only where the code knows requestBudget). */
const UNPACED = { requestBudget: { requests: 1_000_000, window: '10m' } };
const PACED = process.env.BENCH_GRAPH_PACED === '1';

const scenarios: GraphScenario[] = [
  { name: 'large', emails: EMAILS, pageSize: 1000, mode: 'once', maxMs: MAX_MS, ...(process.env.BENCH_GRAPH_BEFORE === '1' ? {} : { connection: UNPACED }) },
  ...(PACED ? [{ name: 'large-paced', emails: EMAILS, pageSize: 1000, mode: 'once', maxMs: 30 * 60_000, fakeBudget: GRAPH_BUDGET }] : []),
  { name: 'throttled', emails: THROTTLED, pageSize: 7, throttle: { every: 9, retryAfter: 1 }, mode: 'once', maxMs: MAX_MS },
  { name: 'throttled', emails: THROTTLED, pageSize: 7, throttle: { every: 9, retryAfter: 1 }, mode: 'service', maxMs: MAX_MS },
].map((scenario) => (CONFIG ? { ...scenario, config: CONFIG } : scenario)) as GraphScenario[];

const began = Date.now();
const built = await buildCli(say);
const entry = built ? BUILT_ENTRY : POSTROOM_BIN;
const results: GraphDrainResult[] = [];
for (const scenario of scenarios) {
  if (ONLY && !ONLY.includes(`${scenario.name}-${scenario.mode}`)) continue;
  say(`${scenario.name}: ${scenario.emails} emails, ${scenario.mode}`);
  const result = await graphDrain(entry, scenario, say);
  results.push(result);
  say(
    `${scenario.name} ${scenario.mode}: ${result.finished ? 'drained' : 'NOT drained'} in ${(result.wallMs / 1000).toFixed(1)} s, ${result.httpPerEmail.toFixed(3)} HTTP requests per email`,
  );
}
const dir = join(REPO_ROOT, 'bench-results');
await mkdir(dir, { recursive: true });
const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, load: os.loadavg()[0] };
await writeFile(
  join(dir, 'graph-latest.json'),
  `${JSON.stringify({ startedAt: new Date(began).toISOString(), cli: built ? 'built' : 'checkout', machine, results }, null, 2)}\n`,
);
process.stdout.write(
  `\n${formatGraphTable(results)}\n\nMachine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}. CLI: ${built ? 'built (dist)' : 'checkout (tsx)'}. Written to bench-results/graph-latest.json.\n`,
);
