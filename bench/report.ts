/** Turns the measurements into the printed table (with pass/miss against the targets) and the JSON file. */
import os from 'node:os';
import type { Mailbox } from './mailbox.ts';
import type { Protocol } from './postroom-workspace.ts';
import type { Client, DrainSample } from './scenarios/drain.ts';
import type { LatencyResult } from './scenarios/idle-latency.ts';
import type { LargeEmailSample } from './scenarios/large-email.ts';
import type { ParseThreadResults } from './scenarios/parse-threads.ts';
import type { SyscallCounts } from './scenarios/strace-drain.ts';

/** The issue's targets. Printed next to the figures; the bench never fails on them. */
export const TARGETS = Object.freeze({
  /** Postroom's IMAP drain throughput as a share of the raw client's. */
  imapCeilingShare: 0.6,
  /** Peak RSS taking one email with a 100 MB attachment (issue 17). */
  largeEmailPeakRssBytes: 150 * 2 ** 20,
  /** Peak RSS draining the 5,000-email mailbox (issue 17). */
  drainPeakRssBytes: 200 * 2 ** 20,
  /** Postroom's IMAP drain against the naive imapflow + simpleParser script, emails/s (issue 17). */
  naiveShare: 2,
  /** CPU ms per email of Postroom's IMAP drain (issue 17). */
  cpuMsPerEmail: 4,
  /** IDLE pickup latency, 99th percentile. */
  idleP99Ms: 2_000,
});

const MB = 2 ** 20;

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  dovecot: string;
  /** 1-minute load average when the bench started and ended: other work on the machine shows here. */
  loadAtStart: number;
  loadAtEnd: number;
}

export interface BenchResults {
  startedAt: string;
  quick: boolean;
  machine: Machine;
  mailbox: { emails: number; bytes: number; pipelineMessages: number; runs: Record<Protocol, number> };
  /** Which CLI the drains ran. */
  drainCli: LargeEmailSample['cli'];
  drain: Record<Protocol, ProtocolDrain | { todo: string }>;
  /** `run --once` on an empty mailbox: start-up time and the memory of the process alone. */
  startup: LargeEmailSample[];
  largeEmail: LargeEmailSample[];
  latency: (LatencyResult & { p50Ms: number; p99Ms: number; ownP50Ms: number; ownP99Ms: number; emails: number }) | { todo: string };
  mimeParsers?: string;
  profile?: string;
  syscalls?: SyscallCounts;
  parseThreads?: ParseThreadResults;
  durationMs: number;
}

export type Peer = Exclude<Client, 'postroom' | 'raw'>;

export interface ProtocolDrain {
  postroom: DrainStats;
  raw: DrainStats;
  /** Postroom's emails/s as a share of the raw client's. */
  ratio: number;
  /** The tools a user would run instead, same run and mailbox (IMAP). */
  peers?: Partial<Record<Peer, DrainStats>>;
}

/** Medians per client and protocol; the peers drained IMAP only. */
export function drainResults(protocols: Protocol[], samples: DrainSample[], peers: Client[]): BenchResults['drain'] {
  const stats = (client: Client, protocol: Protocol): DrainStats => drainStats(samples.filter((s) => s.protocol === protocol && s.client === client));
  return Object.fromEntries(
    (['imap', 'pop3'] as const).map((protocol) => {
      if (!protocols.includes(protocol)) return [protocol, { todo: 'POP3 is not registered in src/sources/registry.ts yet' }];
      if (!samples.some((s) => s.protocol === protocol && s.client === 'postroom')) return [protocol, { todo: 'not measured in this run (BENCH_PROTOCOLS)' }];
      const postroom = stats('postroom', protocol);
      const raw = stats('raw', protocol);
      const drain: ProtocolDrain = { postroom, raw, ratio: raw.medianMs / postroom.medianMs };
      const compared = [...(protocol === 'imap' ? peers : []), ...(samples.some((s) => s.client === 'baseline') ? (['baseline'] as const) : [])];
      if (compared.length) drain.peers = Object.fromEntries(compared.map((peer) => [peer, stats(peer, protocol)]));
      return [protocol, drain];
    }),
  ) as BenchResults['drain'];
}

/** Postroom next to the raw client and the peers: emails/s, MB/s, CPU ms per email, peak RSS, Postroom's ratio. */
export function formatSideBySide(drain: BenchResults['drain']): string {
  const rows: string[][] = [];
  for (const protocol of ['imap', 'pop3'] as const) {
    const d = drain[protocol];
    if ('todo' in d) continue;
    const clients: Array<[string, DrainStats]> = [
      [`Postroom run --once (${protocol.toUpperCase()})`, d.postroom],
      [`raw client, ceiling (${protocol.toUpperCase()})`, d.raw],
      ...Object.entries(d.peers ?? {})
        .filter(([, stats]) => stats.runs.length)
        .map(([peer, stats]): [string, DrainStats] => [
          peer === 'baseline' ? `${PEER_LABELS.baseline} (${protocol.toUpperCase()})` : PEER_LABELS[peer as Peer],
          stats,
        ]),
    ];
    for (const [label, stats] of clients) {
      if (!stats.runs.length) continue;
      rows.push([
        label,
        stats.messagesPerSecond.toFixed(1),
        stats.megabytesPerSecond.toFixed(1),
        stats.cpuMsPerEmail.toFixed(2),
        mb(stats.peakRssBytes),
        stats === d.postroom ? '' : `${(d.postroom.messagesPerSecond / stats.messagesPerSecond).toFixed(2)}x`,
        stats.runs.join(' / '),
      ]);
    }
  }
  return table(['tool', 'emails/s', 'MB/s', 'CPU ms/email', 'peak RSS', 'Postroom / it', 'runs (ms)'], rows);
}

const PEER_LABELS: Record<Peer, string> = {
  baseline: `Postroom at ${process.env.BENCH_BASELINE ?? 'the baseline'}`,
  naive: 'imapflow + simpleParser script (IMAP)',
  mbsync: 'mbsync, isync (IMAP, fsync)',
};

export function formatSyscalls(counts: SyscallCounts): string {
  const { perEmail } = counts;
  return [
    `System calls per email (strace -c -f, one drain of ${counts.emails}): ${perEmail.fsyncs} fsyncs, ${perEmail.fileSystem} file-system calls, ${perEmail.readWrite} read/write (files and sockets), ${perEmail.all} in all.`,
    `Most frequent: ${counts.top.map((entry) => `${entry.call} ${entry.perEmail}`).join(', ')}.`,
  ].join('\n');
}

/** BENCH_DRAIN_ONLY=1: the side-by-side drain table alone. */
export function formatDrainOnly(drain: BenchResults['drain'], mailbox: Mailbox, machine: Machine, syscalls?: SyscallCounts): string {
  return [
    `Mailbox: ${mailbox.emails} emails, ${mb(mailbox.bytes)}; TLS throughout; medians after a warm-up round.`,
    machineLine(machine),
    '',
    formatSideBySide(drain),
    ...(syscalls ? ['', formatSyscalls(syscalls)] : []),
  ].join('\n');
}

function machineLine(m: Machine): string {
  return `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.os}, Node ${m.node}, ${m.dovecot}; load average ${m.loadAtStart.toFixed(1)} at start, ${m.loadAtEnd.toFixed(1)} at end.`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export interface DrainStats {
  runs: number[];
  medianMs: number;
  /** CPU time of the client process in the median run's place (median of the runs' CPU times). */
  medianCpuMs: number;
  /** CPU ms (user + system of the process) per email, median over the runs. */
  cpuMsPerEmail: number;
  messagesPerSecond: number;
  megabytesPerSecond: number;
  peakRssBytes: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function drainStats(samples: DrainSample[]): DrainStats {
  if (!samples.length)
    return {
      runs: [],
      medianMs: Number.NaN,
      medianCpuMs: Number.NaN,
      cpuMsPerEmail: Number.NaN,
      messagesPerSecond: Number.NaN,
      megabytesPerSecond: Number.NaN,
      peakRssBytes: 0,
    };
  const ms = median(samples.map((s) => s.ms));
  const { emails, bytes } = samples[0]!;
  return {
    runs: samples.map((s) => Math.round(s.ms)),
    medianMs: ms,
    medianCpuMs: median(samples.map((s) => s.cpuMs)),
    cpuMsPerEmail: median(samples.map((s) => s.cpuMs / s.emails)),
    messagesPerSecond: emails / (ms / 1000),
    megabytesPerSecond: bytes / MB / (ms / 1000),
    peakRssBytes: Math.max(...samples.map((s) => s.peakRssBytes)),
  };
}

export function machineNow(dovecotVersion: string, loadAtStart: number): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    dovecot: dovecotVersion,
    loadAtStart,
    loadAtEnd: os.loadavg()[0]!,
  };
}

const verdict = (ok: boolean): string => (ok ? 'pass' : 'MISS');
const cliLabel = (cli: LargeEmailSample['cli']): string => (cli === 'checkout' ? 'checkout CLI (tsx)' : 'built CLI (dist)');
const mb = (bytes: number): string => `${(bytes / MB).toFixed(0)} MB`;

export function formatTable(results: BenchResults): string {
  const rows: string[][] = [];
  const { mailbox } = results;
  for (const protocol of ['imap', 'pop3'] as const) {
    const drain = results.drain[protocol];
    const name = protocol.toUpperCase();
    if ('todo' in drain) {
      rows.push([`${name} drain`, `TODO: ${drain.todo}`, '', '']);
      continue;
    }
    const { postroom, raw, ratio } = drain;
    const runs = (stats: DrainStats): string =>
      `${stats.runs.length > 1 ? `median of ${stats.runs.join(' / ')}` : `1 run, ${stats.runs[0]}`} ms; CPU ${(stats.medianCpuMs / 1000).toFixed(1)} s`;
    rows.push([
      `${name} drain, Postroom (${cliLabel(results.drainCli)}, run --once)`,
      `${postroom.messagesPerSecond.toFixed(1)} emails/s, ${postroom.megabytesPerSecond.toFixed(1)} MB/s`,
      runs(postroom),
      '',
    ]);
    rows.push([
      `${name} drain, raw client (ceiling)`,
      `${raw.messagesPerSecond.toFixed(1)} emails/s, ${raw.megabytesPerSecond.toFixed(1)} MB/s`,
      runs(raw),
      '',
    ]);
    const target = protocol === 'imap' ? `>= ${TARGETS.imapCeilingShare * 100}%: ${verdict(ratio >= TARGETS.imapCeilingShare)}` : '';
    rows.push([`${name} Postroom / ceiling`, `${(ratio * 100).toFixed(0)}%`, '', target]);
    const naive = drain.peers?.naive;
    if (naive?.runs.length) {
      const share = postroom.messagesPerSecond / naive.messagesPerSecond;
      rows.push([`${name} Postroom / naive script`, `${share.toFixed(2)}x emails/s`, '', `>= ${TARGETS.naiveShare}x: ${verdict(share >= TARGETS.naiveShare)}`]);
    }
    if (protocol === 'imap') {
      rows.push([
        `${name} CPU per email, Postroom`,
        `${postroom.cpuMsPerEmail.toFixed(2)} ms`,
        `raw client ${raw.cpuMsPerEmail.toFixed(2)} ms`,
        `<= ${TARGETS.cpuMsPerEmail} ms: ${verdict(postroom.cpuMsPerEmail <= TARGETS.cpuMsPerEmail)}`,
      ]);
    }
    rows.push([
      `${name} peak RSS, draining ${mailbox.emails} emails`,
      mb(postroom.peakRssBytes),
      `raw client ${mb(raw.peakRssBytes)}`,
      `<= ${mb(TARGETS.drainPeakRssBytes)}: ${verdict(postroom.peakRssBytes <= TARGETS.drainPeakRssBytes)}`,
    ]);
  }
  for (const startup of results.startup) {
    rows.push([
      `${cliLabel(startup.cli)}: run --once, empty mailbox`,
      `peak RSS ${mb(startup.peakRssBytes)}`,
      `${(startup.ms / 1000).toFixed(1)} s: start-up, in every drain`,
      '',
    ]);
  }
  for (const large of results.largeEmail) {
    const ok = large.peakRssBytes <= TARGETS.largeEmailPeakRssBytes;
    const baseline = results.startup.find((s) => s.cli === large.cli);
    const growth = baseline ? `, +${mb(large.peakRssBytes - baseline.peakRssBytes)} over empty` : '';
    rows.push([
      `${cliLabel(large.cli)}: ${large.protocol.toUpperCase()}, 1 email with ${mb(large.attachmentBytes)} attachment`,
      `peak RSS ${mb(large.peakRssBytes)}`,
      `${(large.ms / 1000).toFixed(1)} s${growth}`,
      `<= ${mb(TARGETS.largeEmailPeakRssBytes)}: ${verdict(ok)}`,
    ]);
  }
  const { latency } = results;
  if ('todo' in latency) rows.push(['IDLE pickup latency', `TODO: ${latency.todo}`, '', '']);
  else {
    rows.push([
      `IDLE pickup latency (APPEND -> .json), ${latency.emails} emails`,
      `p50 ${latency.p50Ms.toFixed(0)} ms, p99 ${latency.p99Ms.toFixed(0)} ms`,
      latency.missed ? `${latency.missed} missed` : `max ${Math.max(...latency.samples).toFixed(0)} ms`,
      `p99 < ${TARGETS.idleP99Ms} ms: ${verdict(latency.p99Ms < TARGETS.idleP99Ms)}`,
    ]);
    rows.push([
      `  of which Postroom's (EXISTS heard -> .json)`,
      `p50 ${latency.ownP50Ms.toFixed(0)} ms, p99 ${latency.ownP99Ms.toFixed(0)} ms`,
      `the rest is the server announcing (${latency.afterAnnouncement.length} matched)`,
      '',
    ]);
  }
  return [
    `Mailbox: ${mailbox.emails} emails, ${mb(mailbox.bytes)}, ${mailbox.pipelineMessages} pipeline messages; IMAP ${mailbox.runs.imap} and POP3 ${mailbox.runs.pop3} measured run(s) per client after a warm-up round, medians; TLS throughout.`,
    machineLine(results.machine),
    '',
    formatSideBySide(results.drain),
    ...(results.syscalls ? ['', formatSyscalls(results.syscalls)] : []),
    '',
    table(['measurement', 'result', 'detail', 'target'], rows),
  ].join('\n');
}
