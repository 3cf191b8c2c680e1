import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type CorpusEmail, makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { bySubject, type Delivered, endThrottle, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const EMAILS = 8;
/** Each email carries an attachment of this size, so a cut can fall inside a RETR. */
const ATTACHMENT_BYTES = 40 * 1024;

function emails(tag: string): CorpusEmail[] {
  return Array.from({ length: EMAILS }, (_, i) =>
    makeEmail({
      subject: `${tag} ${i}`,
      text: `email ${i} of the ${tag} batch\n`,
      attachments: [{ filename: `${tag}-${i}.bin`, content: pseudoRandomBytes(ATTACHMENT_BYTES, `${tag}-${i}`), contentType: 'application/octet-stream' }],
    }),
  );
}

function assertEachOnce(delivered: Delivered[], batch: CorpusEmail[]): void {
  const groups = bySubject(delivered);
  for (const email of batch) {
    const got = groups.get(email.subject) ?? [];
    assert.deepEqual(
      got.map((d) => d.sha256),
      email.expected.parts.map((p) => p.sha256),
      `${email.subject}: every part, byte-exact`,
    );
    assert.equal(new Set(got.map((d) => d.envelope.id)).size, email.expected.parts.length, `${email.subject}: one pipeline message per part`);
  }
  assert.equal(
    delivered.length,
    batch.reduce((sum, email) => sum + email.expected.parts.length, 0),
    'nothing else was delivered',
  );
}

describe('POP3 connection lost before QUIT', () => {
  let dovecot: Dovecot;
  let proxy: TcpProxy;
  let ws: Workspace;

  before(async () => {
    dovecot = await startDovecot();
    proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.pop3Port });
  });
  beforeEach(async () => {
    ws = await workspace();
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
  });

  it('does not deliver again the emails whose deletes the server undid', async () => {
    const user = await dovecot.addUser('quitcut', 'secret-quitcut');
    const batch = emails('quit');
    await dovecot.deliverMany(
      user.name,
      batch.map((e) => e.raw),
    );
    // run --once would wait the cut's pause out; each run here is a separate attempt.
    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false })], { throttle: { onceWaitMax: 0 } });

    // The QUIT never reaches the server: every DELE of this session is undone.
    let quitsCut = 0;
    proxy.onClientData = byLine((line, connection) => {
      if (line.toString('latin1') !== 'QUIT\r\n') return line;
      quitsCut += 1;
      connection.cut();
      return null;
    });
    const first = await runOnce(config);
    proxy.onClientData = undefined;
    assert.equal(quitsCut, 1);
    assert.notEqual(first.polls.get('inbox')?.status, 'done', 'a session without +OK to QUIT is not a success');
    assert.equal((await dovecot.listMessages(user.name)).length, EMAILS, 'the server put every email back');
    const afterFirst = await readDelivered(ws.outDir);
    assertEachOnce(afterFirst, batch);

    await endThrottle(config);
    const second = await runOnce(config);
    const outcome = second.polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.ok(outcome.status === 'done');
    assert.equal(outcome.result.emails, 0, 'nothing is emitted again');
    assert.equal(outcome.result.alreadyEmitted, EMAILS, 'every email is recognised from the ledger and only deleted');
    const afterSecond = await readDelivered(ws.outDir);
    assertEachOnce(afterSecond, batch);
    assert.deepEqual(
      afterSecond.map((d) => [d.envelope.id, d.envelope.receivedAt]).sort(),
      afterFirst.map((d) => [d.envelope.id, d.envelope.receivedAt]).sort(),
      'no pipeline message was written a second time',
    );
    assert.deepEqual(await dovecot.listMessages(user.name), [], 'the mailbox is empty');
    await ws.dispose();
  });

  it('delivers the rest once, and the first ones not again, after a cut in the middle of a RETR', async () => {
    const user = await dovecot.addUser('retrcut', 'secret-retrcut');
    const batch = emails('retr');
    await dovecot.deliverMany(
      user.name,
      batch.map((e) => e.raw),
    );
    // run --once would wait the cut's pause out; each run here is a separate attempt.
    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false })], { throttle: { onceWaitMax: 0 } });
    const totalBytes = batch.reduce((sum, e) => sum + e.raw.length, 0);

    // Cut a little under halfway through the mail: some emails are committed, one is half read.
    proxy.cutAfterServerBytes(Math.floor(totalBytes * 0.45));
    const first = await runOnce(config);
    proxy.cutAfterServerBytes(null);
    assert.notEqual(first.polls.get('inbox')?.status, 'done');
    const afterFirst = await readDelivered(ws.outDir);
    const firstSubjects = new Set(afterFirst.map((d) => d.envelope.email.subject));
    assert.ok(firstSubjects.size > 0 && firstSubjects.size < EMAILS, `the cut fell mid-run (${firstSubjects.size} of ${EMAILS} emails before it)`);
    assert.equal((await dovecot.listMessages(user.name)).length, EMAILS, 'no delete took effect without QUIT');

    await endThrottle(config);
    const second = await runOnce(config);
    const outcome = second.polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.ok(outcome.status === 'done');
    assert.equal(outcome.result.emails, EMAILS - firstSubjects.size, 'only the emails not committed before the cut are emitted');
    assert.equal(outcome.result.alreadyEmitted, firstSubjects.size);
    const afterSecond = await readDelivered(ws.outDir);
    assertEachOnce(afterSecond, batch);
    const firstWritten = new Map(afterFirst.map((d) => [d.envelope.id, d.envelope.receivedAt]));
    for (const d of afterSecond) {
      if (firstWritten.has(d.envelope.id)) assert.equal(d.envelope.receivedAt, firstWritten.get(d.envelope.id), 'written once');
    }
    assert.deepEqual(await dovecot.listMessages(user.name), [], 'the mailbox is empty');
    await ws.dispose();
  });
});
