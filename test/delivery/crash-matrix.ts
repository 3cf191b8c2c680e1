/**
 * The crash matrix: a real worker process (`postroom run --once`) SIGKILLs itself at one exact
 * step of the pickup or delivery sequence (the POSTROOM_FAULT test hook, src/model/fault-points.ts),
 * then runs again. Afterwards every email must be at the destination exactly once — every id
 * once, no id missing, exactly two files (.data + .json) per pipeline message — and nothing may
 * be left unacknowledged on the server, in the ledger or in the outbox.
 */
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ConnectionInput } from '../../src/config/schema.ts';
import type { FaultStep } from '../../src/model/fault-points.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type CorpusEmail, makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { bySubject, imapConnection, openWorkspaceStore, pop3Connection, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';

const EMAILS = 4;
/** Big enough that an attachment spans many TCP reads. */
const ATTACHMENT_BYTES = 64 * 1024;
/** A run that takes longer has hung; the fault's SIGKILL comes within seconds. */
const RUN_TIMEOUT_MS = 90_000;

/**
 * Where to kill, and at which occurrence. Per-email steps die at the 3rd email: two are through
 * (usually delivered already, so a second delivery of theirs would show) and one is untouched.
 */
export const CRASH_POINTS: ReadonlyArray<{ step: FaultStep; at: number }> = [
  { step: 'after-fetch', at: 3 },
  { step: 'in-transaction', at: 3 },
  { step: 'after-commit', at: 3 },
  { step: 'during-acknowledge', at: 1 },
  { step: 'during-delivery', at: 3 },
];

function batch(tag: string): CorpusEmail[] {
  return Array.from({ length: EMAILS }, (_, i) =>
    makeEmail({
      subject: `${tag} ${i}`,
      text: `email ${i} of ${tag}\n`,
      attachments: [{ filename: `${tag}-${i}.bin`, content: pseudoRandomBytes(ATTACHMENT_BYTES, `${tag}-${i}`), contentType: 'application/octet-stream' }],
    }),
  );
}

/**
 * Time passing, as it would before a restarted worker picks up a dead one's work: the dead
 * worker's lease and delivery claims run out (after the polling interval and a minute).
 */
function letTheDeadWorkersLeasesRunOut(ws: Workspace): void {
  const database = new Database(join(ws.dataDir, 'postroom.sqlite'));
  try {
    database.prepare('update leases set expires_at = 0').run();
    database.prepare('update outbox set claimed_by = null, claimed_until = null').run();
  } finally {
    database.close();
  }
}

function queryStore<T>(ws: Workspace, sql: string): T[] {
  const database = new Database(join(ws.dataDir, 'postroom.sqlite'), { readonly: true });
  try {
    return database.prepare(sql).all() as T[];
  } finally {
    database.close();
  }
}

/**
 * The files of messages the outbox already counts as delivered, with their inodes: the directory
 * destination writes by rename, so a message written again gets a new inode. Deterministic ids
 * make a second delivery invisible to a count of ids; this is what tells it.
 */
async function deliveredFiles(ws: Workspace): Promise<Map<string, number>> {
  const inodes = new Map<string, number>();
  for (const { id } of queryStore<{ id: string }>(ws, "select id from outbox where state = 'delivered'")) {
    for (const name of [`${id}.data`, `${id}.json`]) inodes.set(name, (await stat(join(ws.outDir, name))).ino);
  }
  return inodes;
}

async function serverLeftovers(dovecot: Dovecot, user: DovecotUser, protocol: 'imap' | 'pop3'): Promise<number> {
  const messages = await dovecot.listMessages(user.name);
  // IMAP marks read; POP3 always deletes.
  return protocol === 'imap' ? messages.filter((m) => !m.flags.includes('\\Seen')).length : messages.length;
}

export function crashMatrix(protocol: 'imap' | 'pop3'): void {
  describe(`${protocol.toUpperCase()} worker killed with SIGKILL at each step, then run again`, () => {
    let dovecot: Dovecot;
    const spaces: Workspace[] = [];

    before(async () => {
      dovecot = await startDovecot();
    });
    after(async () => {
      await dovecot?.stop();
      for (const ws of spaces) await ws.dispose();
    });

    for (const { step, at } of CRASH_POINTS) {
      it(`killed ${step} (occurrence ${at}): every email delivered exactly once, nothing left unacknowledged`, async () => {
        const ws = await workspace();
        spaces.push(ws);
        const user = await dovecot.addUser(`${protocol}-${step}`, `secret-${step}`);
        const emails = batch(`${protocol} ${step}`);
        await dovecot.deliverMany(
          user.name,
          emails.map((e) => e.raw),
        );
        const connection: ConnectionInput = protocol === 'imap' ? imapConnection(dovecot, user) : pop3Connection(dovecot, user);
        const config = testConfig(ws, [connection]);
        const configPath = await writeConfigFile(ws.dir, {
          store: ws.dataDir,
          destinations: { out: { type: 'directory', path: ws.outDir } },
          connections: [connection],
          log: { level: 'warn' },
        });
        const args = ['run', '--once', '--config', configPath];

        const started = Date.now();
        const crashed = await runCli(args, { env: { POSTROOM_FAULT: `${step}:${at}` }, timeoutMs: RUN_TIMEOUT_MS });
        assert.equal(crashed.signal, 'SIGKILL', `the worker killed itself at ${step}; exit ${crashed.code}\n${crashed.stderr}`);
        assert.ok(Date.now() - started < RUN_TIMEOUT_MS - 5_000, 'killed by the fault hook, not by the test timeout');

        const expectedParts = emails.reduce((sum, e) => sum + e.expected.parts.length, 0);
        const opened = await openWorkspaceStore(config);
        const unfinished =
          (await serverLeftovers(dovecot, user, protocol)) +
          (await opened.store.pendingAcknowledgements('inbox')).length +
          (await opened.store.outboxDepth('inbox', ['pending', 'dead'])) +
          (expectedParts - (await readDelivered(ws.outDir)).length);
        await opened.store.close();
        assert.ok(unfinished > 0, 'the crash left work to finish');
        const deliveredBeforeRestart = await deliveredFiles(ws);

        letTheDeadWorkersLeasesRunOut(ws);
        const rerun = await runCli(args, { timeoutMs: RUN_TIMEOUT_MS });
        assert.equal(rerun.code, 0, `the second run succeeds\n${rerun.stdout}\n${rerun.stderr}`);

        const delivered = await readDelivered(ws.outDir);
        const ids = delivered.map((d) => d.envelope.id);
        assert.equal(new Set(ids).size, ids.length, 'no id twice');
        assert.equal(ids.length, expectedParts, 'none missing');
        const groups = bySubject(delivered);
        for (const email of emails) {
          assert.deepEqual(
            (groups.get(email.subject) ?? []).map((d) => d.sha256),
            email.expected.parts.map((p) => p.sha256),
            `${email.subject}: each part once, byte-exact`,
          );
        }
        for (const [name, inode] of deliveredBeforeRestart) {
          assert.equal((await stat(join(ws.outDir, name))).ino, inode, `${name} was delivered before the crash and is not delivered again`);
        }
        const [{ n: ledgerRows }] = queryStore<{ n: number }>(ws, 'select count(*) as n from ledger') as [{ n: number }];
        if (protocol === 'imap') assert.equal(ledgerRows, EMAILS, 'one ledger row per email');
        // POP3 forgets an email the server no longer lists once all of it is delivered (pruneLedger):
        // whether the rerun's listing came before or after its deliveries decides how many are left.
        else assert.ok(ledgerRows <= EMAILS, `at most one ledger row per email (${ledgerRows})`);
        assert.deepEqual(queryStore(ws, 'select count(*) as n from outbox'), [{ n: expectedParts }], 'one outbox row per part');
        const files = (await readdir(ws.outDir)).sort();
        assert.deepEqual(files, ids.flatMap((id) => [`${id}.data`, `${id}.json`]).sort(), 'exactly two files per pipeline message, no leftovers');

        assert.equal(await serverLeftovers(dovecot, user, protocol), 0, protocol === 'imap' ? 'every email is marked seen' : 'the mailbox is empty');
        const reopened = await openWorkspaceStore(config);
        try {
          assert.deepEqual(await reopened.store.pendingAcknowledgements('inbox'), [], 'the ledger has every email acknowledged');
          assert.equal(await reopened.store.outboxDepth('inbox', ['pending', 'dead']), 0, 'nothing waits in the outbox');
        } finally {
          await reopened.store.close();
        }
      });
    }
  });
}
