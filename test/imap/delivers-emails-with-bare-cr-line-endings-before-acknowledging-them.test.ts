/**
 * Emails written with bare CR line endings used to yield no pipeline message and were marked
 * seen (or, over POP3, deleted) all the same: lost. Through the real pickup, each now yields its
 * body and attachment, and is acknowledged only after those are in the outbox.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BARE_CR_ATTACHMENT, BARE_CR_TEXT } from '../mime/bare-cr-emails.ts';
import { sha256 } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type Delivered, imapConnection, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

function parts(delivered: Delivered[], subject: string): string[] {
  return delivered.filter((item) => item.envelope.email.subject === subject).map((item) => `${item.envelope.kind}:${item.envelope.filename}`);
}

function assertBothDelivered(delivered: Delivered[]): void {
  assert.deepEqual(parts(delivered, 'bare CR text'), ['body:body.txt']);
  assert.deepEqual(parts(delivered, 'bare CR attachment'), ['body:body.txt', 'attachment:a.pdf']);
  const pdf = delivered.find((item) => item.envelope.filename === 'a.pdf');
  assert.equal(pdf?.sha256, sha256(Buffer.from('ABCDEFGHI')));
  const text = delivered.find((item) => item.envelope.email.subject === 'bare CR text');
  // A server may drop the email's last line end; the lines themselves are there.
  assert.match(text?.data.toString('utf8') ?? '', /^first line\nsecond line\n?$/);
}

describe('pickup of emails with bare CR line endings', () => {
  let dovecot: Dovecot;
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => dovecot?.stop());

  describe('over IMAP', () => {
    let ws: Workspace;
    before(async () => {
      ws = await workspace();
    });
    after(async () => ws?.dispose());

    it('delivers the body and attachment of each, then marks them seen', async () => {
      const user = await dovecot.addUser('bare-cr-imap', 'secret-bare-cr');
      await dovecot.append(user.name, BARE_CR_TEXT);
      await dovecot.append(user.name, BARE_CR_ATTACHMENT);
      const stored = await dovecot.listMessages(user.name, { source: true });
      assert.ok(
        stored.every((message) => !message.source?.includes(0x0a)),
        'the server keeps the bare CRs',
      );

      const { polls, delivery } = await runOnce(testConfig(ws, [imapConnection(dovecot, user)]));
      assert.equal(polls.get('inbox')?.status, 'done', JSON.stringify(polls.get('inbox')));
      assert.equal(delivery.dead, 0);
      assertBothDelivered(await readDelivered(ws.outDir));
      const onServer = await dovecot.listMessages(user.name);
      assert.equal(onServer.length, 2);
      for (const message of onServer) assert.ok(message.flags.includes('\\Seen'), `UID ${message.uid} is marked \\Seen`);
    });
  });

  describe('over POP3', () => {
    let ws: Workspace;
    before(async () => {
      ws = await workspace();
    });
    after(async () => ws?.dispose());

    it('delivers the body and attachment of each, then deletes them', async () => {
      const user = await dovecot.addUser('bare-cr-pop3', 'secret-bare-cr');
      await dovecot.append(user.name, BARE_CR_TEXT);
      await dovecot.append(user.name, BARE_CR_ATTACHMENT);

      const { polls, delivery } = await runOnce(testConfig(ws, [pop3Connection(dovecot, user)]));
      const outcome = [...polls.values()][0];
      assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
      assert.equal(delivery.dead, 0);
      assertBothDelivered(await readDelivered(ws.outDir));
      assert.equal((await dovecot.listMessages(user.name)).length, 0, 'deleted once delivered into the outbox');
    });
  });
});
