/**
 * Draining a Microsoft 365 mailbox through the Graph-shaped fake (test/support/fake-graph.ts),
 * by the real CLI in a child process: repeated `postroom run --once` (as cron would), or the
 * service (`postroom run`) left running until the mailbox is empty. What the fake counted says
 * how many requests each email cost, whether any request broke a Retry-After window, and whether
 * the request budget held in every window.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { type ExchangeThrottling, type FakeGraph, type LimitStats, startFakeGraph } from '../../test/support/fake-graph.ts';
import { makeEmail } from '../../test/support/mime-writer.ts';
import { runMeasured, startMeasured } from '../child-process.ts';

const TENANT = 'bench-tenant';
const MAILBOX = 'bench@contoso.test';
const APP = { tenantId: TENANT, clientId: 'bench-app', clientSecret: 'bench-secret', roles: ['Mail.ReadWrite'] };
/** Graph's budget per app and mailbox (learn.microsoft.com/graph/throttling-limits#outlook-service-limits). */
export const GRAPH_BUDGET = { requests: 10_000, windowMs: 600_000 };
/** A drain that has not finished by then is stuck (the livelock this scenario was made for). */
const RUN_TIMEOUT_MS = 15 * 60_000;

export interface GraphScenario {
  name: string;
  emails: number;
  pageSize: number;
  throttle?: ExchangeThrottling;
  mode: 'once' | 'service';
  /** Give up after this long (the drain is reported as not finished). */
  maxMs: number;
  /** Extra top-level config (e.g. throttle settings the code under test knows). */
  config?: Record<string, unknown>;
  /** Extra fields of the Graph connection (e.g. requestBudget). */
  connection?: Record<string, unknown>;
  /** The fake refuses requests beyond this budget (and records them as violations). */
  fakeBudget?: { requests: number; windowMs: number };
}

export interface GraphDrainResult {
  name: string;
  mode: GraphScenario['mode'];
  emails: number;
  pageSize: number;
  throttle?: ExchangeThrottling;
  finished: boolean;
  /** Emails left unread on the server at the end. */
  unread: number;
  /** Pipeline messages at the destination, and how many a complete drain makes. */
  delivered: number;
  expected: number;
  /** Emails whose parts arrived more than once. */
  duplicates: number;
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  runs: number;
  /** Runs of `run --once` by exit code. */
  exitCodes: Record<string, number>;
  stats: LimitStats;
  tokenRequests: number;
  httpPerEmail: number;
  outlookPerEmail: number;
  listings: number;
  penaltyViolations: number;
  budgetViolations: number;
  /** Most requests counted in any 10-minute window. */
  busiestWindow: number;
  missingImmutableIds: number;
}

function benchEmails(count: number): Array<{ raw: Buffer; parts: number }> {
  return Array.from({ length: count }, (_, index) => {
    const subject = `graph bench ${String(index).padStart(6, '0')}`;
    const text = `Order ${index}\n${'quantity delivery invoice total '.repeat(40)}\n`;
    // Every tenth email carries a small attachment, so splitting is part of the cost.
    const email =
      index % 10 === 9
        ? makeEmail({
            subject,
            text,
            attachments: [{ filename: `order-${index}.csv`, content: Buffer.from(`id;qty\n${index};1\n`.repeat(200)), contentType: 'text/csv' }],
          })
        : makeEmail({ subject, text });
    return { raw: email.raw, parts: email.expected.parts.length };
  });
}

async function delivered(outDir: string): Promise<{ count: number; duplicates: number }> {
  const names = (await readdir(outDir).catch(() => [] as string[])).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  const parts = new Map<string, Set<number>>();
  let duplicates = 0;
  for (const name of names) {
    const envelope = JSON.parse(await readFile(join(outDir, name), 'utf8')) as { partIndex: number; source: { graphId?: string } };
    const seen = parts.get(envelope.source.graphId ?? '') ?? new Set<number>();
    if (seen.has(envelope.partIndex)) duplicates += 1;
    seen.add(envelope.partIndex);
    parts.set(envelope.source.graphId ?? '', seen);
  }
  return { count: names.length, duplicates };
}

export async function graphDrain(entry: string, scenario: GraphScenario, say: (text: string) => void): Promise<GraphDrainResult> {
  const graph: FakeGraph = await startFakeGraph({ pageSize: scenario.pageSize });
  const dir = await mkdtemp(join(tmpdir(), 'postroom-bench-graph-'));
  try {
    graph.addApp(APP);
    graph.addMailbox(MAILBOX);
    const emails = benchEmails(scenario.emails);
    for (const email of emails) graph.deliver(MAILBOX, email.raw);
    const expected = emails.reduce((sum, email) => sum + email.parts, 0);
    if (scenario.throttle) graph.throttleLikeExchange(scenario.throttle);
    if (scenario.fakeBudget) graph.setBudget(scenario.fakeBudget);
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    const configPath = join(dir, 'postroom.yaml');
    await writeFile(
      configPath,
      stringify({
        store: join(dir, 'data'),
        destinations: { out: { type: 'directory', path: outDir } },
        connections: [
          {
            name: 'bench',
            hostType: 'graph',
            tenantId: TENANT,
            clientId: APP.clientId,
            clientSecret: APP.clientSecret,
            mailbox: MAILBOX,
            folder: 'inbox',
            graphEndpoint: graph.url,
            authorityHost: graph.url,
            tls: { ca: graph.caPem },
            pollingInterval: '2s',
            destination: 'out',
            ...scenario.connection,
          },
        ],
        api: { enabled: false },
        log: { level: 'warn' },
        ...scenario.config,
      }),
    );
    const unread = (): number => graph.messages(MAILBOX).filter((message) => !message.isRead).length;
    const done = async (): Promise<boolean> => unread() === 0 && (await delivered(outDir)).count >= expected;
    const started = performance.now();
    let cpuMs = 0;
    let peak = 0;
    let runs = 0;
    const exitCodes: Record<string, number> = {};
    if (scenario.mode === 'once') {
      while (!(await done()) && performance.now() - started < scenario.maxMs) {
        const run = await runMeasured(process.execPath, [entry, '--config', configPath, 'run', '--once'], {
          timeoutMs: Math.max(RUN_TIMEOUT_MS, scenario.maxMs),
        });
        runs += 1;
        cpuMs += run.cpuMs;
        peak = Math.max(peak, run.peakRssBytes);
        const code = String(run.code ?? run.signal);
        exitCodes[code] = (exitCodes[code] ?? 0) + 1;
        if (runs % 10 === 0) say(`${scenario.name}: ${runs} runs, ${scenario.emails - unread()} of ${scenario.emails} read`);
      }
    } else {
      const child = startMeasured(process.execPath, [entry, '--config', configPath, 'run'], { timeoutMs: Math.max(RUN_TIMEOUT_MS, scenario.maxMs) });
      runs = 1;
      while (!(await done()) && performance.now() - started < scenario.maxMs) await sleep(100);
      child.child.kill('SIGTERM');
      const run = await child.done;
      cpuMs = run.cpuMs;
      peak = run.peakRssBytes;
      exitCodes[String(run.code ?? run.signal)] = 1;
    }
    const wallMs = performance.now() - started;
    const finished = await done();
    const out = await delivered(outDir);
    const stats = graph.stats(MAILBOX);
    const mailboxRequests = graph.requests.filter((r) => r.kind === 'graph');
    return {
      name: scenario.name,
      mode: scenario.mode,
      emails: scenario.emails,
      pageSize: scenario.pageSize,
      ...(scenario.throttle ? { throttle: scenario.throttle } : {}),
      finished,
      unread: unread(),
      delivered: out.count,
      expected,
      duplicates: out.duplicates,
      wallMs,
      cpuMs,
      peakRssBytes: peak,
      runs,
      exitCodes,
      stats,
      tokenRequests: graph.requests.filter((r) => r.kind === 'token').length,
      httpPerEmail: stats.http / scenario.emails,
      outlookPerEmail: stats.outlook / scenario.emails,
      listings: mailboxRequests.filter((r) => r.method === 'GET' && r.path.endsWith('/messages')).length,
      penaltyViolations: graph.penaltyViolations.length,
      budgetViolations: graph.budgetViolations.length,
      busiestWindow: graph.busiestWindow(MAILBOX, GRAPH_BUDGET.windowMs),
      missingImmutableIds: graph.missingImmutableIds.length,
    };
  } finally {
    await graph.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatGraphTable(results: GraphDrainResult[]): string {
  const header = [
    'scenario',
    'drained',
    'wall',
    'CPU / email',
    'HTTP req / email',
    'Outlook req / email',
    'listings',
    '429 / 503',
    'in Retry-After',
    'busiest 10 min',
    'runs',
  ];
  const rows = results.map((r) => [
    `${r.name} (${r.emails} emails, pages of ${r.pageSize}${r.throttle ? `, 429 every ${r.throttle.every}th, Retry-After ${r.throttle.retryAfter} s` : ''}, ${r.mode === 'once' ? 'run --once' : 'service'})`,
    r.finished ? `yes${r.duplicates ? `, ${r.duplicates} TWICE` : ''}` : `NO: ${r.emails - r.unread} read, ${r.delivered}/${r.expected} delivered`,
    `${(r.wallMs / 1000).toFixed(1)} s`,
    `${(r.cpuMs / r.emails).toFixed(2)} ms`,
    r.httpPerEmail.toFixed(3),
    r.outlookPerEmail.toFixed(3),
    String(r.listings),
    `${r.stats.throttled + r.stats.concurrency + r.stats.overBudget} / ${r.stats.unavailable}`,
    String(r.penaltyViolations),
    `${r.busiestWindow}${r.budgetViolations ? ` (${r.budgetViolations} over)` : ''}`,
    `${r.runs} ${Object.entries(r.exitCodes)
      .map(([code, n]) => `${n}x exit ${code}`)
      .join(', ')}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
