import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, readDelivered, testConfig } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

it('lists with UID FETCH when SEARCH answers empty though STATUS counts unseen mail, warns once, and delivers each email once', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const user = await dovecot.addUser('bad-search', 'pw-bad-search');
  await dovecot.deliver(user.name, makeEmail({ subject: 'read already', text: 'x' }).raw, { flags: ['\\Seen'] });
  await dovecot.deliverMany(
    user.name,
    [0, 1, 2].map((i) => makeEmail({ subject: `unseen ${i}`, text: `body ${i}` }).raw),
  );
  let emptied = 0;
  // Plain IMAP so the proxy sees the replies; STARTTLS is hidden. Every SEARCH result is dropped,
  // as GNU Mailutils imap4d does for "UID SEARCH UNSEEN UNDELETED UID 1:*".
  proxy.onServerData = byLine((line) => {
    let text = line.toString('latin1').replace(/ STARTTLS/g, '');
    if (/^\* SEARCH \d/.test(text)) {
      text = '* SEARCH\r\n';
      emptied += 1;
    }
    return Buffer.from(text, 'latin1');
  });
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) });
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(first.status === 'done', JSON.stringify(first));
    assert.ok(emptied > 0, 'the proxy emptied the search result');
    assert.equal(first.result.emails, 3);
    await dovecot.append(user.name, makeEmail({ subject: 'later', text: 'y' }).raw);
    const second = await worker.poll(config.connections[0]!);
    assert.ok(second.status === 'done' && second.result.emails === 1, JSON.stringify(second));
    const third = await worker.poll(config.connections[0]!);
    assert.ok(third.status === 'done' && third.result.emails === 0, 'nothing new, nothing twice');
    await worker.delivery.drain();
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['later', 'unseen 0', 'unseen 1', 'unseen 2']);
    const fault = warnings.filter((w) => /SEARCH/.test(w));
    assert.equal(fault.length, 1, `one warning, not one per poll: ${JSON.stringify(warnings)}`);
    assert.match(fault[0]!, /the server's SEARCH found 0 new email\(s\) but UID FETCH 1:\* \(UID FLAGS\) finds 3 unseen \(a server fault/);
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
});
