/**
 * A long poll keeps its progress as it makes it. A backlog larger than a listing page (5,000) is
 * taken a page at a time, each committed and acknowledged before the next is listed from the
 * cursor, so the poll never holds the whole folder; within a page, acknowledgements the server
 * has confirmed are written to the ledger every 500, not only when the poll ends. A worker killed
 * in the second page leaves the first page and part of the second recorded, and the next run
 * only finishes the rest: every email once, every email marked \Seen.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';

const EMAILS = 5_600;
/** Killed after this many emails were committed: in the second page, past one of its every-500 recordings. */
const KILLED_AT = 5_550;
const RUN_TIMEOUT_MS = 180_000;

let dovecot: Dovecot;
let ws: Workspace;
before(async () => {
  [dovecot, ws] = await Promise.all([startDovecot(), workspace()]);
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

function ledgerStates(): Map<string, number> {
  const database = new Database(join(ws.dataDir, 'postroom.sqlite'));
  try {
    const rows = database.prepare('select state, count(*) as n from ledger group by state').all() as Array<{ state: string; n: number }>;
    // The dead worker's lease runs out, as it would before another worker takes over.
    database.prepare('update leases set expires_at = 0').run();
    database.prepare('update outbox set claimed_by = null, claimed_until = null').run();
    return new Map(rows.map((row) => [row.state, row.n]));
  } finally {
    database.close();
  }
}

it(`takes a ${EMAILS}-email backlog a page at a time, recording acknowledgements as it goes, so a crash leaves little to redo`, async () => {
  const user = await dovecot.addUser('long-poll', 'pw-long-poll-5e1');
  const subjects = Array.from({ length: EMAILS }, (_, i) => `long poll ${String(i).padStart(4, '0')}`);
  await dovecot.deliverMany(
    user.name,
    subjects.map((subject) => makeEmail({ subject, text: `${subject}\n` }).raw),
  );
  const connection = imapConnection(dovecot, user);
  const configPath = await writeConfigFile(ws.dir, {
    store: ws.dataDir,
    destinations: { out: { type: 'directory', path: ws.outDir } },
    connections: [connection],
    log: { level: 'warn' },
  });
  const args = ['run', '--once', '--config', configPath];

  const crashed = await runCli(args, { env: { POSTROOM_FAULT: `after-commit:${KILLED_AT}` }, timeoutMs: RUN_TIMEOUT_MS });
  assert.equal(crashed.signal, 'SIGKILL', `killed by the fault hook; exit ${crashed.code}\n${crashed.stderr}`);
  const states = ledgerStates();
  assert.ok(
    // Before, nothing was recorded until the poll's end. Now the whole first page (its session
    // closed), and of the second what the server had confirmed at its first 500.
    (states.get('acknowledged') ?? 0) >= 5_000,
    `the ledger says ${states.get('acknowledged') ?? 0} acknowledged before the crash: recorded as the poll went`,
  );
  const seenOnServer = (await dovecot.listMessages(user.name)).filter((message) => message.flags.includes('\\Seen')).length;
  assert.ok(seenOnServer >= (states.get('acknowledged') ?? 0), 'the ledger records only what the server confirmed');

  const rerun = await runCli(args, { timeoutMs: RUN_TIMEOUT_MS });
  assert.equal(rerun.code, 0, `the second run finishes the poll\n${rerun.stderr}`);
  const delivered = (await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort();
  assert.deepEqual(delivered, subjects, 'every email once');
  assert.equal((await dovecot.listMessages(user.name)).filter((message) => !message.flags.includes('\\Seen')).length, 0, 'every email marked \\Seen');
  assert.deepEqual([...ledgerStates()], [['acknowledged', EMAILS]]);
});
