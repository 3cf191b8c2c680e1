/**
 * `npm run bench -- backlog`: does memory grow with the mailbox? A large backlog of small emails
 * drained by one `postroom run --once` (the README's command, bin/postroom.js: the built CLI,
 * SQLite store, directory destination), over IMAP and over POP3, each at a tenth of its size and
 * in full, against a private Dovecot on loopback. Prints emails/s, CPU ms per email and peak RSS;
 * a peak that stays flat from the tenth to the whole says memory does not grow with the mailbox.
 * Peak RSS is mostly V8's headroom over the live objects (the heap fills up to its next limit
 * before a full collection), so the live heap is printed too: the heap left after each full
 * collection (`node --trace-gc`, Mark-Compact), in the first and the last fifth of the drain. Flat
 * from the first fifth to the last, and from the tenth to the whole, it is the state that does
 * not grow with the mailbox.
 *
 *   BACKLOG_IMAP (default 100000) and BACKLOG_POP3 (default 20000) change the sizes.
 *
 * Small emails (a text body of about 1 KB), so the figure is the per-email state (the listing,
 * the ledger, the outbox), not the content, which the drain benchmark covers.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { type Dovecot, type DovecotUser, startDovecot } from '../test/support/dovecot.ts';
import { makeEmail } from '../test/support/mime-writer.ts';
import { POSTROOM_BIN, POSTROOM_NODE_FLAGS, runMeasured } from './child-process.ts';
import { countFiles, type Mailbox, ownerOf } from './mailbox.ts';
import { type Protocol, postroomWorkspace } from './postroom-workspace.ts';
import { median } from './report.ts';
import { prepareMailbox } from './scenarios/drain.ts';

const IMAP_EMAILS = Number(process.env.BACKLOG_IMAP ?? 100_000);
const POP3_EMAILS = Number(process.env.BACKLOG_POP3 ?? 20_000);
/** A drain of 100,000 small emails takes minutes; an hour means something hangs. */
const DRAIN_TIMEOUT_MS = 60 * 60_000;
const LINE = 'order invoice shipment pallet quantity delivery customer account balance payment reference\n';

const say = (text: string): void => void process.stderr.write(`bench backlog: ${text}\n`);

/** `count` small emails as Maildir files, the first `count` of one sequence (so the tenth is a prefix of the whole). */
async function writeBacklog(dir: string, count: number, owner: { uid: number; gid: number }): Promise<Mailbox> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  let bytes = 0;
  for (let index = 0; index < count; index += 1) {
    const raw = makeEmail({ subject: `backlog ${String(index).padStart(6, '0')}`, text: `${index}\n${LINE.repeat(12)}` }).raw;
    const name = `${1_700_000_000 + index}.M${index}P1.backlog,S=${raw.length},W=${raw.length}`;
    await writeFile(join(dir, name), raw);
    await chown(join(dir, name), owner.uid, owner.gid);
    files.push(name);
    bytes += raw.length;
  }
  return { dir, files, emails: count, bytes, messages: count };
}

interface Sample {
  protocol: Protocol;
  emails: number;
  ms: number;
  cpuMs: number;
  peakRssBytes: number;
  live: LiveHeap;
}

/** The heap in use after full collections, MB (medians), by when in the drain they ran. */
interface LiveHeap {
  firstFifth: number | undefined;
  lastFifth: number | undefined;
  max: number | undefined;
  /** Seconds into the drain of the collection that left the most. */
  maxAt: number | undefined;
  collections: number;
}

/** `node --trace-gc`'s line for a full collection: ms since start, and MB in use after it. */
const FULL_GC = /(\d+) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/g;

function liveHeap(trace: string, ms: number): LiveHeap {
  const collections = [...trace.matchAll(FULL_GC)].map((match) => ({ at: Number(match[1]), mb: Number(match[2]) }));
  const medianOf = (values: number[]): number | undefined => (values.length ? median(values) : undefined);
  const largest = collections.reduce<{ at: number; mb: number } | undefined>((top, gc) => (top && top.mb >= gc.mb ? top : gc), undefined);
  return {
    firstFifth: medianOf(collections.filter((gc) => gc.at < ms / 5).map((gc) => gc.mb)),
    lastFifth: medianOf(collections.filter((gc) => gc.at >= (ms * 4) / 5).map((gc) => gc.mb)),
    max: largest?.mb,
    maxAt: largest && largest.at / 1000,
    collections: collections.length,
  };
}

async function drain(dovecot: Dovecot, user: DovecotUser, protocol: Protocol, mailbox: Mailbox): Promise<Sample> {
  await prepareMailbox(dovecot, user, mailbox);
  const ws = await postroomWorkspace(dovecot, user, protocol);
  try {
    const run = await runMeasured(process.execPath, [...POSTROOM_NODE_FLAGS, '--trace-gc', POSTROOM_BIN, '--config', ws.configPath, 'run', '--once'], {
      timeoutMs: DRAIN_TIMEOUT_MS,
    });
    if (run.code !== 0) throw new Error(`postroom run --once (${protocol}) exited ${run.code ?? run.signal}:\n${run.stderr.slice(-4000)}`);
    const delivered = await countFiles(ws.outDir, '.json');
    if (delivered !== mailbox.messages) throw new Error(`postroom (${protocol}) delivered ${delivered} of ${mailbox.messages} pipeline messages`);
    return { protocol, emails: mailbox.emails, ms: run.ms, cpuMs: run.cpuMs, peakRssBytes: run.peakRssBytes, live: liveHeap(run.stdout, run.ms) };
  } finally {
    await ws.dispose();
  }
}

function liveText(live: LiveHeap): string {
  const mb = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(1));
  const at = live.maxAt === undefined ? '' : ` at ${live.maxAt.toFixed(0)} s`;
  return `${mb(live.firstFifth)} / ${mb(live.lastFifth)} / ${mb(live.max)}${at} (${live.collections})`;
}

async function main(): Promise<void> {
  const dovecot = await startDovecot();
  const scratch = await mkdtemp(join(os.tmpdir(), 'postroom-bench-backlog-'));
  const samples: Sample[] = [];
  try {
    const user = await dovecot.addUser('backlog', 'pw-bench-backlog');
    const owner = await ownerOf(user.maildir);
    for (const [protocol, total] of [
      ['imap', IMAP_EMAILS],
      ['pop3', POP3_EMAILS],
    ] as const) {
      for (const count of [Math.round(total / 10), total]) {
        say(`${protocol}: writing ${count} emails`);
        const mailbox = await writeBacklog(join(scratch, `${protocol}-${count}`), count, owner);
        say(`${protocol}: draining ${count} emails (${(mailbox.bytes / 2 ** 20).toFixed(0)} MB)`);
        const sample = await drain(dovecot, user, protocol, mailbox);
        samples.push(sample);
        say(
          `${protocol} ${count}: ${(sample.ms / 1000).toFixed(1)} s, peak RSS ${(sample.peakRssBytes / 2 ** 20).toFixed(0)} MB, live heap ${liveText(sample.live)}`,
        );
        await rm(mailbox.dir, { recursive: true, force: true });
      }
    }
  } finally {
    await dovecot.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  const rows = samples.map(
    (s) =>
      `| ${s.protocol.toUpperCase()} | ${s.emails.toLocaleString('en')} | ${(s.emails / (s.ms / 1000)).toFixed(0)} | ${(s.cpuMs / s.emails).toFixed(2)} | ${(s.peakRssBytes / 2 ** 20).toFixed(0)} | ${liveText(s.live)} |`,
  );
  process.stdout.write(
    [
      `Backlog drain, one \`run --once\` (${os.cpus().length} cores, ${new Date().toISOString().slice(0, 10)})`,
      '',
      '| protocol | emails | emails/s | CPU ms/email | peak RSS MB | live heap MB after full GCs: first fifth / last fifth / largest, when (count) |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

await main();
