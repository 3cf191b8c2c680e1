/**
 * One drain of the benchmark mailbox, by Postroom (`postroom run --once`, the real CLI in a child
 * process: SQLite store, directory destination, body + attachment splitting) or by the raw
 * client (the ceiling). Each run starts from the same freshly linked Maildir, whose index is
 * built before the clock starts, so every client meets the same warm server.
 */
import { mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dovecot, DovecotUser } from '../../test/support/dovecot.ts';
import { BASELINE_ENTRY } from '../build-cli.ts';
import { POSTROOM_BIN, POSTROOM_NODE_FLAGS, runMeasured, tsArgs } from '../child-process.ts';
import { countFiles, type Mailbox, resetMaildir } from '../mailbox.ts';
import { mbsyncConfig } from '../peers/mbsync.ts';
import { type Protocol, postroomWorkspace } from '../postroom-workspace.ts';
import { warmUpImap } from '../raw/raw-imap-client.ts';

/** Postroom, the raw client (the ceiling) and the peers a user would otherwise run (bench/peers/). */
export type Client = 'postroom' | 'baseline' | 'raw' | 'naive' | 'mbsync';

export interface DrainSample {
  client: Client;
  protocol: Protocol;
  ms: number;
  /** CPU time of the client process: less at the mercy of other load on the machine than wall time. */
  cpuMs: number;
  peakRssBytes: number;
  emails: number;
  bytes: number;
}

/**
 * What each drain wrote stays until the bench ends (`removeDrainOutputs`). Removed at once, it
 * would make the next drain pay for it: ext4 without a journal (this machine's) keeps freed inodes
 * back, and each create walks past every inode freed in the last 60-360 s (fs/ext4/ialloc.c,
 * `recently_deleted`); one drain frees thousands. Measured, 3,000 emails, both commits kept
 * their output: Postroom 8.15 -> 7.44 CPU ms/email from one change that frees one inode fewer
 * per email, a difference the cleanup between rounds hid completely (8.30 / 8.31). Where the
 * disk has less than `KEEP_FREE_BYTES` left, a drain's output goes at once as before.
 */
const outputs: string[] = [];
const KEEP_FREE_BYTES = 20 * 2 ** 30;

async function removeLater(dir: string): Promise<void> {
  const { bavail, bsize } = await statfs(dir);
  if (bavail * bsize < KEEP_FREE_BYTES) await rm(dir, { recursive: true, force: true });
  else outputs.push(dir);
}

/** Removes what the drains wrote (when the bench ends). */
export async function removeDrainOutputs(): Promise<void> {
  for (const dir of outputs.splice(0)) await rm(dir, { recursive: true, force: true });
}

/** No drain of the full mailbox takes this long unless something hangs. */
const DRAIN_TIMEOUT_MS = 10 * 60_000;

const RAW_SCRIPT: Record<Protocol, string> = { imap: 'bench/raw/raw-imap-client.ts', pop3: 'bench/raw/raw-pop3-client.ts' };

/** Links the mailbox in afresh and lets Dovecot index it (untimed: it is the server's warm-up, not the client's work). */
export async function prepareMailbox(dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox): Promise<void> {
  await resetMaildir(user.maildir, mailbox);
  if (mailbox.emails === 0) return; // nothing to index (and FETCH 1:* on an empty folder is an error)
  const scratch = await mkdtemp(join(tmpdir(), 'postroom-bench-index-'));
  try {
    await warmUpImap({ host: dovecot.host, port: dovecot.imapPort, user: user.name, password: user.password, out: scratch });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface DrainOptions {
  /** The CLI to run: bin/postroom.js (a checkout, through tsx) unless given (the built one). */
  entry?: string;
  cpuProfileDir?: string;
  /** A command the CLI runs under (e.g. `strace -c -f -o <file>`). */
  wrap?: string[];
  /** `parsing.threads` of the drain's config (default: Postroom's own). */
  parseThreads?: number;
}

export async function drainOnce(
  client: Client,
  protocol: Protocol,
  dovecot: Dovecot,
  user: DovecotUser,
  mailbox: Mailbox,
  options: DrainOptions = {},
): Promise<DrainSample> {
  await prepareMailbox(dovecot, user, mailbox);
  if (client === 'postroom') return postroomDrain(protocol, dovecot, user, mailbox, options);
  if (client === 'baseline') return { ...(await postroomDrain(protocol, dovecot, user, mailbox, { ...options, entry: BASELINE_ENTRY })), client };
  if (client === 'naive') return naiveDrain(dovecot, user, mailbox);
  if (client === 'mbsync') return mbsyncDrain(dovecot, user, mailbox);
  return rawDrain(protocol, dovecot, user, mailbox);
}

async function postroomDrain(protocol: Protocol, dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox, options: DrainOptions): Promise<DrainSample> {
  const ws = await postroomWorkspace(dovecot, user, protocol, options.parseThreads !== undefined ? { parseThreads: options.parseThreads } : {});
  try {
    const profile = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
    const args = [...POSTROOM_NODE_FLAGS, ...profile, options.entry ?? POSTROOM_BIN, '--config', ws.configPath, 'run', '--once'];
    const [command, ...wrapArgs] = options.wrap ?? [];
    const run = command
      ? await runMeasured(command, [...wrapArgs, process.execPath, ...args], { timeoutMs: DRAIN_TIMEOUT_MS })
      : await runMeasured(process.execPath, args, { timeoutMs: DRAIN_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`postroom run --once (${protocol}) exited ${run.code ?? run.signal}:\n${run.stdout}\n${run.stderr.slice(-4000)}`);
    const summary = /(\d+) new email\(s\), (\d+) pipeline message\(s\)/.exec(run.stdout);
    const delivered = await countFiles(ws.outDir, '.json');
    if (Number(summary?.[1]) !== mailbox.emails || delivered !== mailbox.messages) {
      throw new Error(
        `postroom (${protocol}) took ${summary?.[1]} of ${mailbox.emails} emails and delivered ${delivered} of ${mailbox.messages} pipeline messages:\n${run.stdout}`,
      );
    }
    return { client: 'postroom', protocol, ms: run.ms, cpuMs: run.cpuMs, peakRssBytes: run.peakRssBytes, emails: mailbox.emails, bytes: mailbox.bytes };
  } finally {
    await removeLater(ws.dir);
  }
}

async function rawDrain(protocol: Protocol, dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox): Promise<DrainSample> {
  const out = await mkdtemp(join(tmpdir(), 'postroom-bench-raw-'));
  try {
    const port = protocol === 'imap' ? dovecot.imapsPort : dovecot.pop3sPort;
    const target = { host: dovecot.host, port, user: user.name, password: user.password, out, ca: dovecot.caPem };
    const run = await runMeasured(process.execPath, tsArgs(RAW_SCRIPT[protocol], [JSON.stringify(target)]), { timeoutMs: DRAIN_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`raw ${protocol} client exited ${run.code ?? run.signal}:\n${run.stderr.slice(-4000)}`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { messages: number; bytes: number };
    if (result.messages !== mailbox.emails) throw new Error(`raw ${protocol} client took ${result.messages} of ${mailbox.emails} emails`);
    return { client: 'raw', protocol, ms: run.ms, cpuMs: run.cpuMs, peakRssBytes: run.peakRssBytes, emails: result.messages, bytes: mailbox.bytes };
  } finally {
    await removeLater(out);
  }
}

/** The imapflow + simpleParser script a user would write (bench/peers/naive-imapflow.ts). */
async function naiveDrain(dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox): Promise<DrainSample> {
  const out = await mkdtemp(join(tmpdir(), 'postroom-bench-naive-'));
  try {
    const target = { host: dovecot.host, port: dovecot.imapsPort, user: user.name, password: user.password, out, ca: dovecot.caPem };
    const run = await runMeasured(process.execPath, tsArgs('bench/peers/naive-imapflow.ts', [JSON.stringify(target)]), { timeoutMs: DRAIN_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`naive imapflow script exited ${run.code ?? run.signal}:\n${run.stderr.slice(-4000)}`);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { messages: number };
    if (result.messages !== mailbox.emails) throw new Error(`naive imapflow script took ${result.messages} of ${mailbox.emails} emails`);
    return { client: 'naive', protocol: 'imap', ms: run.ms, cpuMs: run.cpuMs, peakRssBytes: run.peakRssBytes, emails: result.messages, bytes: mailbox.bytes };
  } finally {
    await removeLater(out);
  }
}

/** mbsync (isync) pulling INBOX into a fsync'd local Maildir. */
async function mbsyncDrain(dovecot: Dovecot, user: DovecotUser, mailbox: Mailbox): Promise<DrainSample> {
  const out = await mkdtemp(join(tmpdir(), 'postroom-bench-mbsync-'));
  try {
    const config = await mbsyncConfig({ host: dovecot.host, port: dovecot.imapsPort, user: user.name, password: user.password, out, ca: dovecot.caPem });
    const run = await runMeasured('mbsync', ['-c', config, '-q', 'bench'], { timeoutMs: DRAIN_TIMEOUT_MS });
    if (run.code !== 0) throw new Error(`mbsync exited ${run.code ?? run.signal}:\n${run.stdout}\n${run.stderr.slice(-4000)}`);
    const taken = (await countFiles(join(out, 'maildir', 'INBOX', 'new'), '')) + (await countFiles(join(out, 'maildir', 'INBOX', 'cur'), ''));
    if (taken !== mailbox.emails) throw new Error(`mbsync took ${taken} of ${mailbox.emails} emails:\n${run.stderr.slice(-4000)}`);
    return { client: 'mbsync', protocol: 'imap', ms: run.ms, cpuMs: run.cpuMs, peakRssBytes: run.peakRssBytes, emails: taken, bytes: mailbox.bytes };
  } finally {
    await removeLater(out);
  }
}
