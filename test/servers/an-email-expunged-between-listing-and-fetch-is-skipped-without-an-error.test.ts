import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, testConfig } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

it('skips an email another client expunged between listing and fetch, with no error, and delivers the rest once', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const user = await dovecot.addUser('expunged', 'pw-expunged');
  await dovecot.deliverMany(
    user.name,
    [0, 1, 2].map((i) => makeEmail({ subject: `mail ${i}`, text: `body ${i}` }).raw),
  );
  /** Another client, as a user's mail program would: deletes and expunges UID 2. */
  const expungeSecond = async (): Promise<void> => {
    const other = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      secure: true,
      tls: { ca: dovecot.caPem },
      auth: { user: user.name, pass: user.password },
      logger: false,
    });
    await other.connect();
    await other.mailboxOpen('INBOX');
    await other.messageDelete('2', { uid: true });
    await other.logout();
  };
  let held = false;
  proxy.onServerData = byLine((line) => Buffer.from(line.toString('latin1').replace(/ STARTTLS/g, ''), 'latin1'));
  // The first FETCH of content waits until the other client has expunged UID 2.
  proxy.onClientData = byLine((line, connection) => {
    if (!held && /^\S+ UID FETCH .*BODY\.PEEK\[\]/i.test(line.toString('latin1'))) {
      held = true;
      void expungeSecond().then(() => connection.injectToServer(line));
      return null;
    }
    return line;
  });
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(held, 'the other client expunged while the fetch waited');
    assert.ok(first.status === 'done', JSON.stringify(first));
    assert.equal(first.result.emails, 2);
    assert.deepEqual(first.result.failures, [], 'an email someone else removed is not a failure');
    assert.equal((await opened.store.getConnectionState('inbox'))?.lastPoll?.error ?? null, null, 'the connection shows no error');
    const second = await worker.poll(config.connections[0]!);
    assert.ok(second.status === 'done' && second.result.listed === 0, JSON.stringify(second));
    await worker.delivery.drain();
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
  assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['mail 0', 'mail 2']);
  const left = await dovecot.listMessages(user.name);
  assert.ok(left.length === 2 && left.every((m) => m.flags.includes('\\Seen')), 'the two delivered are acknowledged');
});
