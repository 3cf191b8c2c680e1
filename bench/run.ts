/**
 * `npm run bench`: Postroom's speed and memory, measured against a private Dovecot on loopback.
 *
 *   1. Drain throughput: the same generated mailbox drained by `postroom run --once` and by a raw
 *      client (the ceiling), IMAP and POP3, interleaved, a warm-up round first, medians.
 *   2. Peak RSS taking one email with a 100 MB attachment, and of the process on an empty mailbox.
 *   3. IDLE pickup latency, APPEND to `.json`, p50 and p99.
 *   4. The MIME parser comparison (bench/mime-parsers.ts), and with BENCH_PROFILE=1 a CPU profile
 *      of one IMAP drain, summarised.
 *
 * Memory is measured for the CLI as a checkout runs it (bin/postroom.js: src/ through tsx) and as
 * built (`npm run build`, what `npm start` runs), compiled into bench-results/build/.
 *
 * BENCH_QUICK=1: 500 emails, one measured run, 50 latency samples, no parser comparison.
 * BENCH_EMAILS, BENCH_RUNS (IMAP, default 3) and BENCH_POP3_RUNS (default 1: a Postroom POP3 drain
 * of 5,000 emails takes minutes, and the ceiling target is on IMAP) override the sizes.
 * Prints a table and writes bench-results/latest.json.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDovecot } from '../test/support/dovecot.ts';
import { BUILT_ENTRY, buildBaseline, buildCli } from './build-cli.ts';
import { POSTROOM_BIN, REPO_ROOT, tsArgs } from './child-process.ts';
import { type Mailbox, ownerOf, writeLargeEmail, writeMailbox } from './mailbox.ts';
import { hasMbsync } from './peers/mbsync.ts';
import type { Protocol } from './postroom-workspace.ts';
import { accountFor, formatAccounting, formatSummary, readProfile, summariseFile } from './profile-summary.ts';
import { type BenchResults, drainResults, formatDrainOnly, formatTable, machineNow, median, percentile } from './report.ts';
import { type Client, type DrainSample, drainOnce, removeDrainOutputs } from './scenarios/drain.ts';
import { idleLatency } from './scenarios/idle-latency.ts';
import { type LargeEmailSample, runOnceMeasured } from './scenarios/large-email.ts';
import { formatParseThreads, type ParseThreadResults, parseThreadDrains } from './scenarios/parse-threads.ts';
import { type SyscallCounts, stracedDrain } from './scenarios/strace-drain.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_STRACE=1: one more Postroom IMAP drain under `strace -c -f`, counted per email. */
const STRACE = process.env.BENCH_STRACE === '1';
/** BENCH_THREADS=1 (on by default in a full run): the IMAP drain on 0, 1, 2 and 4 parse threads, as the cores allow. */
const THREADS = process.env.BENCH_THREADS === '1' || (process.env.BENCH_THREADS !== '0' && process.env.BENCH_QUICK !== '1');
/** BENCH_DRAIN_ONLY=1: the drains (and strace) only, no large email, latency or parser comparison. */
const DRAIN_ONLY = process.env.BENCH_DRAIN_ONLY === '1';
/** BENCH_CLIENTS=postroom,naive and BENCH_PROTOCOLS=imap narrow the drains (a quick look at one change). */
/** BENCH_BASELINE=<git ref>: that commit's Postroom drains too, interleaved (bench/build-cli.ts). */
const BASELINE = process.env.BENCH_BASELINE;
const ONLY_CLIENTS = process.env.BENCH_CLIENTS?.split(',');
const ONLY_PROTOCOLS = process.env.BENCH_PROTOCOLS?.split(',');
/** The mailbox; BENCH_EMAILS overrides it (e.g. to try a fix quickly). */
const EMAILS = Number(process.env.BENCH_EMAILS ?? (QUICK ? 500 : 5_000));
const RUNS: Record<Protocol, number> = {
  imap: Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3)),
  pop3: Number(process.env.BENCH_POP3_RUNS ?? 1),
};
const WARM_UP_EMAILS = 100;
const LARGE_ATTACHMENT_BYTES = 100 * 1024 * 1024;
const LATENCY_EMAILS = QUICK ? 50 : 200;
const RESULTS_DIR = join(REPO_ROOT, 'bench-results');

const run = promisify(execFile);
const say = (text: string): void => void process.stderr.write(`bench: ${text}\n`);

async function main(): Promise<void> {
  const began = Date.now();
  const loadAtStart = os.loadavg()[0]!;
  const dovecotVersion = `Dovecot ${(await run('dovecot', ['--version'])).stdout.trim().split(' ')[0]}`;
  const dovecot = await startDovecot();
  const scratch = await mkdtemp(join(os.tmpdir(), 'postroom-bench-mailboxes-'));
  try {
    const drainUser = await dovecot.addUser('bench', 'pw-bench-drain');
    const largeUser = await dovecot.addUser('bench-large', 'pw-bench-large');
    const idleUser = await dovecot.addUser('bench-idle', 'pw-bench-idle');
    const owner = await ownerOf(drainUser.maildir);

    say(`generating ${EMAILS} emails`);
    const mailbox = await writeMailbox(join(scratch, 'drain'), EMAILS, owner);
    const warmUp = await writeMailbox(join(scratch, 'warm-up'), WARM_UP_EMAILS, owner);
    say(`mailbox: ${mailbox.emails} emails, ${(mailbox.bytes / 2 ** 20).toFixed(0)} MB, ${mailbox.messages} pipeline messages`);

    const pop3Available = await hasPop3Source();
    const protocols: Protocol[] = pop3Available ? ['imap', 'pop3'] : ['imap'];
    const mbsync = await hasMbsync();
    if (!mbsync) say('mbsync (Debian isync) is not installed: its column stays empty (apt-get install isync)');
    // The peers a user would run instead (IMAP only): the naive imapflow + simpleParser script, mbsync.
    const peers: Client[] = ['naive', ...(mbsync ? (['mbsync'] as const) : [])];
    const order: Array<[Client, Protocol]> = protocols
      .flatMap(
        (protocol): Array<[Client, Protocol]> => [
          ['raw', protocol],
          ...(protocol === 'imap' ? peers.map((peer): [Client, Protocol] => [peer, protocol]) : []),
          ...(BASELINE ? [['baseline', protocol] as [Client, Protocol]] : []),
          ['postroom', protocol],
        ],
      )
      .filter(([client, protocol]) => (!ONLY_CLIENTS || ONLY_CLIENTS.includes(client)) && (!ONLY_PROTOCOLS || ONLY_PROTOCOLS.includes(protocol)));

    // Drains run the CLI as built (what `npm start` runs): a checkout's tsx compiles src/ at
    // every start, which is the launcher's cost, not Postroom's.
    const built = await buildCli(say);
    if (BASELINE) {
      say(`building ${BASELINE} as the baseline`);
      await buildBaseline(BASELINE);
    }
    const builtEntry = BUILT_ENTRY;
    const drainCli = { build: built ? ('built' as const) : ('checkout' as const), ...(built ? { entry: builtEntry } : {}) };

    say('warm-up round (not counted)');
    for (const [client, protocol] of order) await drainOnce(client, protocol, dovecot, drainUser, warmUp, drainCli);

    // Rounds interleave the clients, so a busy spell on the machine hits them alike.
    const samples: DrainSample[] = [];
    for (let round = 1; round <= Math.max(RUNS.imap, RUNS.pop3); round += 1) {
      for (const [client, protocol] of order) {
        if (round > RUNS[protocol]) continue;
        const sample = await drainOnce(client, protocol, dovecot, drainUser, mailbox, drainCli);
        samples.push(sample);
        say(
          `run ${round}/${RUNS[protocol]} ${client} ${protocol}: ${(sample.ms / 1000).toFixed(1)} s (CPU ${(sample.cpuMs / 1000).toFixed(1)} s, ${(sample.cpuMs / sample.emails).toFixed(2)} ms/email), peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MB`,
        );
      }
    }

    let profile: string | undefined;
    if (PROFILE) {
      say('CPU profile of one IMAP drain');
      const dir = join(RESULTS_DIR, 'profile');
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const profiled = await drainOnce('postroom', 'imap', dovecot, drainUser, mailbox, { ...drainCli, cpuProfileDir: dir });
      // With parse threads each thread writes a profile of its own; the main thread's is the first.
      const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile')).sort();
      const accounting = formatAccounting(accountFor(await readProfile(join(dir, file!)), profiled.emails, profiled.cpuMs), profiled.cpuMs / profiled.emails);
      profile = `${formatSummary(await summariseFile(join(dir, file!), 20))}\n(profile: bench-results/profile/${file})\n\n${accounting}`;
    }

    let syscalls: SyscallCounts | undefined;
    if (STRACE) {
      say('strace -c -f of one Postroom IMAP drain (file-system calls and fsyncs per email)');
      syscalls = await stracedDrain(dovecot, drainUser, mailbox, drainCli);
    }

    let parseThreads: ParseThreadResults | undefined;
    if (THREADS) {
      say('the IMAP drain on parse threads');
      parseThreads = await parseThreadDrains(dovecot, drainUser, mailbox, drainCli, RUNS.imap, say);
    }

    if (DRAIN_ONLY) {
      const drain = drainResults(protocols, samples, peers);
      process.stdout.write(`\n${formatDrainOnly(drain, mailbox, machineNow(dovecotVersion, loadAtStart), syscalls)}\n`);
      if (parseThreads) process.stdout.write(`\n${formatParseThreads(parseThreads)}\n`);
      if (profile) process.stdout.write(`\nWhere a Postroom IMAP drain spends its main thread:\n${profile}\n`);
      return;
    }

    say('one email with a 100 MB attachment, and an empty mailbox (the process alone)');
    const large = await writeLargeEmail(join(scratch, 'large'), LARGE_ATTACHMENT_BYTES, owner);
    const empty: Mailbox = { dir: '', files: [], emails: 0, bytes: 0, messages: 0 };
    const clis = [{ build: 'checkout' as const, entry: POSTROOM_BIN }, ...(built ? [{ build: 'built' as const, entry: builtEntry }] : [])];
    const largeEmail: LargeEmailSample[] = [];
    const startup: LargeEmailSample[] = [];
    for (const cli of clis) {
      for (const protocol of protocols) largeEmail.push(await runOnceMeasured(cli, protocol, dovecot, largeUser, large, LARGE_ATTACHMENT_BYTES));
      startup.push(await runOnceMeasured(cli, 'imap', dovecot, largeUser, empty, 0));
    }

    say(`IDLE pickup latency over ${LATENCY_EMAILS} emails`);
    const latency = await idleLatency(dovecot, idleUser, LATENCY_EMAILS);

    let mimeParsers: string | undefined;
    if (!QUICK) {
      say('MIME parser comparison (bench/mime-parsers.ts)');
      mimeParsers = (await run(process.execPath, tsArgs('bench/mime-parsers.ts', []), { cwd: REPO_ROOT, maxBuffer: 1024 * 1024 })).stdout.trim();
    }

    const drain = drainResults(protocols, samples, peers);

    const results: BenchResults = {
      startedAt: new Date(began).toISOString(),
      quick: QUICK,
      machine: machineNow(dovecotVersion, loadAtStart),
      mailbox: { emails: mailbox.emails, bytes: mailbox.bytes, pipelineMessages: mailbox.messages, runs: RUNS },
      drainCli: drainCli.build,
      drain,
      startup,
      largeEmail,
      latency: {
        ...latency,
        emails: latency.samples.length,
        p50Ms: median(latency.samples),
        p99Ms: percentile(latency.samples, 99),
        ownP50Ms: median(latency.afterAnnouncement),
        ownP99Ms: percentile(latency.afterAnnouncement, 99),
      },
      ...(mimeParsers ? { mimeParsers } : {}),
      ...(profile ? { profile } : {}),
      ...(syscalls ? { syscalls } : {}),
      ...(parseThreads ? { parseThreads } : {}),
      durationMs: Date.now() - began,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    const sections = [formatTable(results)];
    if (parseThreads) sections.push(formatParseThreads(parseThreads));
    if (mimeParsers) sections.push(`MIME parsers (bench/mime-parsers.ts):\n${mimeParsers}`);
    if (profile) sections.push(`Where a Postroom IMAP drain spends its main thread:\n${profile}`);
    sections.push(`Total ${((Date.now() - began) / 60_000).toFixed(1)} min. Written to bench-results/latest.json.`);
    process.stdout.write(`\n${sections.join('\n\n')}\n`);
  } finally {
    await dovecot.stop();
    await removeDrainOutputs();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The POP3 source is being finished elsewhere: bench it only once it is registered. */
async function hasPop3Source(): Promise<boolean> {
  const { loadSource } = await import('../src/sources/registry.ts');
  try {
    return (await loadSource('pop3')).protocol === 'pop3';
  } catch {
    return false;
  }
}

await main();
