/**
 * Pickup latency with IMAP IDLE: `postroom run` (the service) watches an empty INBOX with a
 * polling interval of an hour, so only IDLE can wake it. One email at a time is APPENDed from a
 * separate session; the latency is from just before the APPEND to the moment its `.json` appears
 * in the destination (seen through inotify). The first emails warm up and are not counted.
 *
 * Each latency is split at the moment Postroom's watcher heard the server's `* n EXISTS` (its
 * debug log line): before it is the server's share (Dovecot tells IDLE clients up to half a
 * second after a change, batching changes), after it is Postroom's (poll, commit, deliver).
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { Envelope } from '../../src/model/envelope.ts';
import { makeEmail } from '../../test/support/corpus.ts';
import type { Dovecot, DovecotUser } from '../../test/support/dovecot.ts';
import { POSTROOM_BIN, startMeasured } from '../child-process.ts';
import { type Mailbox, resetMaildir } from '../mailbox.ts';
import { postroomWorkspace } from '../postroom-workspace.ts';

export interface LatencyResult {
  samples: number[];
  /** Emails not picked up within PICKUP_TIMEOUT_MS (counted in the samples at that value). */
  missed: number;
  peakRssBytes: number;
  /** Of each latency, the part after the watcher heard EXISTS: Postroom's own share. */
  afterAnnouncement: number[];
}

/** Unmeasured emails first: the first poll connection, JIT, SQLite's first pages. */
export const WARM_UP_EMAILS = 10;
const ANNOUNCED = 'IDLE: new mail announced';
/** An email not there by then is a miss (the polling interval is an hour). */
const PICKUP_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 60_000;
/** Pause between emails, so each is picked up on its own (latency, not batch throughput). */
const GAP_MIN_MS = 20;
const GAP_MAX_MS = 100;

function waitForOutput(output: () => string, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (output().includes(text)) resolve();
      else if (Date.now() > deadline) reject(new Error(`postroom did not log "${text}" within ${timeoutMs} ms:\n${output().slice(-4000)}`));
      else setTimeout(check, 50);
    };
    check();
  });
}

function appenderFor(dovecot: Dovecot, user: DovecotUser): ImapFlow {
  return new ImapFlow({
    host: dovecot.host,
    port: dovecot.imapsPort,
    secure: true,
    tls: { ca: dovecot.caPem },
    auth: { user: user.name, pass: user.password },
    logger: false,
  });
}

/** Wall-clock ms with sub-ms precision, comparable with the service's log timestamps (Date.now()). */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** When the service's watcher logged each EXISTS (pino's `time`, epoch ms). */
function announcedAt(output: string): number[] {
  return output
    .split('\n')
    .filter((line) => line.includes(ANNOUNCED))
    .map((line) => (JSON.parse(line) as { time: number }).time)
    .sort((a, b) => a - b);
}

export async function idleLatency(dovecot: Dovecot, user: DovecotUser, count: number): Promise<LatencyResult> {
  const empty: Mailbox = { dir: '', files: [], emails: 0, bytes: 0, messages: 0 };
  await resetMaildir(user.maildir, empty);
  const ws = await postroomWorkspace(dovecot, user, 'imap', { idle: true });
  const arrivals = new Map<string, (at: number) => void>();
  const arrived = new Map<string, number>();
  const watcher = watch(ws.outDir, (_event, name) => {
    if (!name?.endsWith('.json') || name.startsWith('.') || arrived.has(name)) return;
    const at = epochNow();
    arrived.set(name, at);
    void readFile(join(ws.outDir, name), 'utf8')
      .then((text) => arrivals.get((JSON.parse(text) as Envelope).email.subject ?? '')?.(at))
      .catch(() => undefined);
  });
  const service = startMeasured(process.execPath, [POSTROOM_BIN, '--config', ws.configPath, 'run']);
  const appender = appenderFor(dovecot, user);
  try {
    await waitForOutput(service.output, 'IDLE: watching for new mail', READY_TIMEOUT_MS);
    await appender.connect();
    const samples: number[] = [];
    const timings: Array<{ sent: number; at: number }> = [];
    let missed = 0;
    for (let index = 0; index < WARM_UP_EMAILS + count; index += 1) {
      const subject = `latency ${index}`;
      const raw = makeEmail({ subject, text: `${subject}\n` }).raw;
      const picked = new Promise<number>((resolve) => {
        arrivals.set(subject, resolve);
        setTimeout(() => resolve(Number.NaN), PICKUP_TIMEOUT_MS).unref();
      });
      const sent = epochNow();
      await appender.append('INBOX', raw);
      const at = await picked;
      arrivals.delete(subject);
      if (index < WARM_UP_EMAILS) continue;
      if (Number.isNaN(at)) missed += 1;
      samples.push(Number.isNaN(at) ? PICKUP_TIMEOUT_MS : at - sent);
      if (!Number.isNaN(at)) timings.push({ sent, at });
      await new Promise((resolve) => setTimeout(resolve, GAP_MIN_MS + ((index * 37) % (GAP_MAX_MS - GAP_MIN_MS))));
    }
    const announcements = announcedAt(service.output());
    const afterAnnouncement = timings.flatMap(({ sent, at }) => {
      const heard = announcements.find((time) => time >= sent && time <= at);
      return heard === undefined ? [] : [at - heard];
    });
    return { samples, missed, peakRssBytes: service.peakRssBytes(), afterAnnouncement };
  } finally {
    watcher.close();
    await appender.logout().catch(() => appender.close());
    service.child.kill('SIGTERM');
    await service.done;
    await ws.dispose();
  }
}
