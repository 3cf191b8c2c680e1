/**
 * A POP3 maildrop larger than a page (1,000 emails) is taken a page per session: each page is
 * committed, deleted and QUIT before the next session lists the next, so the deletes of a page
 * are durable on the server at once, and a connection cut in the third page undoes only that
 * page's deletes (the two before stay deleted). A poll holds a page's listing, not the
 * maildrop's. The next run delivers the rest, nothing twice, and empties the maildrop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { makeEmail } from '../support/mime-writer.ts';
import { endThrottle, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const PAGE = 1_000;
const EMAILS = 2 * PAGE + 300;
/** RETRs the third session sends before its connection is cut. */
const CUT_AFTER_RETRS = 120;

describe('a POP3 maildrop of several pages', () => {
  let dovecot: Dovecot;
  let proxy: TcpProxy;
  let ws: Workspace;

  before(async () => {
    dovecot = await startDovecot();
    proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.pop3Port });
    ws = await workspace();
  });
  after(async () => {
    await proxy?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('is deleted a page per session, so a cut in the third page keeps the first two deleted, and the next run finishes it once', async () => {
    const user = await dovecot.addUser('pages', 'secret-pages');
    const subjects = Array.from({ length: EMAILS }, (_, i) => `page email ${String(i).padStart(4, '0')}`);
    await dovecot.deliverMany(
      user.name,
      subjects.map((subject) => makeEmail({ subject, text: `${subject}\n` }).raw),
    );
    const config = testConfig(ws, [pop3Connection(dovecot, user, { port: proxy.port, useSsl: false })], { throttle: { onceWaitMax: 0 } });

    const sessions: Array<{ tops: number; retrs: number; quit: boolean }> = [];
    proxy.onConnection = () => sessions.push({ tops: 0, retrs: 0, quit: false });
    proxy.onClientData = byLine((line, connection) => {
      const session = sessions[connection.index]!;
      const text = line.toString('latin1');
      if (text.startsWith('TOP ')) session.tops += 1;
      if (text === 'QUIT\r\n') session.quit = true;
      if (text.startsWith('RETR ')) {
        session.retrs += 1;
        if (connection.index === 2 && session.retrs > CUT_AFTER_RETRS) {
          connection.cut();
          return null;
        }
      }
      return line;
    });
    const first = await runOnce(config);
    proxy.onClientData = undefined;
    proxy.onConnection = undefined;

    assert.notEqual(first.polls.get('inbox')?.status, 'done', 'the cut session is not a success');
    assert.deepEqual(
      sessions.map((session) => [session.quit, session.tops]),
      [
        [true, PAGE],
        [true, PAGE],
        [false, EMAILS - 2 * PAGE],
      ],
      'two sessions of a page each, QUIT; the third listed the rest and was cut; each TOPped only its page',
    );
    assert.equal((await dovecot.listMessages(user.name)).length, EMAILS - 2 * PAGE, 'the first two pages stay deleted');
    const afterFirst = await readDelivered(ws.outDir);
    assert.ok(afterFirst.length >= 2 * PAGE, `the first two pages are delivered (${afterFirst.length})`);

    await endThrottle(config);
    const second = await runOnce(config);
    const outcome = second.polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.ok(outcome.status === 'done');
    assert.equal(outcome.result.emails + outcome.result.alreadyEmitted, EMAILS - 2 * PAGE, 'the third page: taken now, or recognised and only deleted');
    const delivered = await readDelivered(ws.outDir);
    assert.deepEqual(delivered.map((d) => d.envelope.email.subject).sort(), subjects, 'every email once');
    assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, EMAILS);
    assert.deepEqual(await dovecot.listMessages(user.name), [], 'the maildrop is empty');
  });
});
