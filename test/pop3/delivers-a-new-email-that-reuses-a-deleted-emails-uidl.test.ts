import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CorpusEmail, makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { bySubject, type Delivered, endThrottle, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/**
 * UIDL = the IMAP UID alone, and the UID list is thrown away between runs: the next email gets
 * UID 1 again, so the server hands a deleted email's UIDL to a new one, as some servers do.
 */
const UID_ONLY_UIDL = '%08Xu';

async function forgetUids(user: DovecotUser): Promise<void> {
  for (const name of await readdir(user.maildir)) {
    if (name === 'dovecot-uidlist' || name.startsWith('dovecot.index')) await rm(join(user.maildir, name), { force: true });
  }
}

function anEmail(subject: string): CorpusEmail {
  return makeEmail({
    subject,
    text: `${subject}\n`,
    attachments: [{ filename: `${subject.replaceAll(' ', '-')}.bin`, content: pseudoRandomBytes(2048, subject), contentType: 'application/octet-stream' }],
  });
}

function partsOf(delivered: Delivered[], email: CorpusEmail): Delivered[] {
  return bySubject(delivered).get(email.subject) ?? [];
}

describe('POP3 server that reuses UIDLs', () => {
  let dovecot: Dovecot;
  let proxy: TcpProxy;
  const workspaces: Workspace[] = [];

  before(async () => {
    dovecot = await startDovecot({ pop3UidlFormat: UID_ONLY_UIDL });
    proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.pop3Port });
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
    for (const ws of workspaces) await ws.dispose();
  });

  it('delivers the new email, and keeps the old one apart, instead of skipping it as already seen', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const user = await dovecot.addUser('reuse', 'secret-reuse');
    const config = testConfig(ws, [pop3Connection(dovecot, user)]);
    const old = anEmail('old email');
    const fresh = anEmail('new email');

    await dovecot.deliver(user.name, old.raw);
    const first = await runOnce(config);
    assert.equal(first.polls.get('inbox')?.status, 'done');
    assert.deepEqual(await dovecot.listMessages(user.name), []);

    await forgetUids(user);
    await dovecot.deliver(user.name, fresh.raw);
    const second = await runOnce(config);
    const outcome = second.polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(outcome.status === 'done' && outcome.result.emails, 1, 'the new email is emitted, not taken for the old one');

    const delivered = await readDelivered(ws.outDir);
    const oldParts = partsOf(delivered, old);
    const freshParts = partsOf(delivered, fresh);
    assert.deepEqual(
      freshParts.map((d) => d.sha256),
      fresh.expected.parts.map((p) => p.sha256),
      'the new email, byte-exact',
    );
    assert.deepEqual(
      oldParts.map((d) => d.sha256),
      old.expected.parts.map((p) => p.sha256),
      'the old email was not overwritten',
    );
    assert.equal(freshParts[0]?.envelope.source.uidl, oldParts[0]?.envelope.source.uidl, 'the server really reused the UIDL');
    assert.equal(
      new Set(delivered.map((d) => d.envelope.id)).size,
      old.expected.parts.length + fresh.expected.parts.length,
      'the two emails have distinct pipeline message ids',
    );
    assert.deepEqual(await dovecot.listMessages(user.name), []);
  });

  it('does not delete the new email in place of an old one whose delete was never confirmed', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const user = await dovecot.addUser('reuse-unconfirmed', 'secret-reuse2');
    // run --once would wait out the pause the lost +OK causes, cutting every retry's QUIT again for
    // minutes; each run here is a separate attempt.
    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false })], { throttle: { onceWaitMax: 0 } });
    const old = anEmail('unconfirmed old');
    const fresh = anEmail('unconfirmed new');

    // The server commits the deletes at QUIT, but its "+OK" is lost on the way: Postroom cannot
    // know the old email is gone, so its ledger row stays "emitted, not yet acknowledged".
    await dovecot.deliver(user.name, old.raw);
    let quitSent = false;
    proxy.onClientData = byLine((line) => {
      if (line.toString('latin1') === 'QUIT\r\n') quitSent = true;
      return line;
    });
    proxy.onServerData = (chunk, connection) => {
      if (!quitSent) return chunk;
      connection.cut();
      return null;
    };
    const first = await runOnce(config);
    proxy.onClientData = undefined;
    proxy.onServerData = undefined;
    assert.ok(quitSent);
    assert.notEqual(first.polls.get('inbox')?.status, 'done', 'no +OK to QUIT: the run cannot count the deletes as done');
    assert.deepEqual(await dovecot.listMessages(user.name), [], 'yet the server did delete');

    await forgetUids(user);
    await dovecot.deliver(user.name, fresh.raw);
    await endThrottle(config);
    const second = await runOnce(config);
    const outcome = second.polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));

    const delivered = await readDelivered(ws.outDir);
    assert.deepEqual(
      partsOf(delivered, fresh).map((d) => d.sha256),
      fresh.expected.parts.map((p) => p.sha256),
      'the new email was delivered, not deleted unread',
    );
    assert.equal(partsOf(delivered, fresh)[0]?.envelope.source.uidl, partsOf(delivered, old)[0]?.envelope.source.uidl, 'the server really reused the UIDL');
    assert.deepEqual(await dovecot.listMessages(user.name), []);
  });
});
