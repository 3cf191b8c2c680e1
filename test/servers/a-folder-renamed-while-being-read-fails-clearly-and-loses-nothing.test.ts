import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, testConfig } from '../support/postroom.ts';
import { byLine, startTcpProxy } from '../support/tcp-proxy.ts';

it('fails clearly when another client renames the folder mid-read, does not pause the account, and delivers each email once from its new name', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const user = await dovecot.addUser('renamed', 'pw-renamed');
  await dovecot.createFolder(user.name, 'Orders');
  await dovecot.deliverMany(
    user.name,
    [0, 1, 2].map((i) => makeEmail({ subject: `order ${i}`, text: `body ${i}` }).raw),
    { folder: 'Orders' },
  );
  const renameFolder = async (): Promise<void> => {
    const other = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      secure: true,
      tls: { ca: dovecot.caPem },
      auth: { user: user.name, pass: user.password },
      logger: false,
    });
    await other.connect();
    await other.mailboxRename('Orders', 'Orders-2026');
    await other.logout();
  };
  let held = false;
  proxy.onServerData = byLine((line) => Buffer.from(line.toString('latin1').replace(/ STARTTLS/g, ''), 'latin1'));
  proxy.onClientData = byLine((line, connection) => {
    if (!held && /^\S+ UID FETCH .*BODY\.PEEK\[\]/i.test(line.toString('latin1'))) {
      held = true;
      void renameFolder().then(() => connection.injectToServer(line));
      return null;
    }
    return line;
  });
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false, folder: 'Orders' })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(held, 'the folder was renamed while the fetch waited');
    assert.ok(first.status === 'failed', `failed, not throttled: ${JSON.stringify(first)}`);
    assert.equal(first.error.code, 'FOLDER_NOT_FOUND');
    // Dovecot 2.3: "* BYE FETCH failed: Mailbox was deleted under us" (a rename looks the same to the session).
    assert.match(
      first.error.explain(),
      /"Orders" was deleted or renamed by another client while it was being read \(the server said "[^"]*Mailbox was deleted[^"]*"\)\. What was read before stands and nothing is delivered twice\. If the folder was renamed, set folder to its new name/,
    );
    assert.equal(await opened.store.getThrottle(throttleAccount(config.connections[0]!)), undefined, 'the account is not paused');
    const again = await worker.poll(config.connections[0]!);
    assert.ok(again.status === 'failed', JSON.stringify(again));
    assert.equal(again.error.code, 'FOLDER_NOT_FOUND');
    assert.match(again.error.explain(), /"Orders".*postroom check/);
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
  const renamed = testConfig(ws, [imapConnection(dovecot, user, { folder: 'Orders-2026' })]);
  const opened2 = await openWorkspaceStore(renamed);
  const worker2 = new Worker({ createDestination, config: renamed, opened: opened2, log: quietLog });
  try {
    const after = await worker2.poll(renamed.connections[0]!);
    assert.equal(after.status, 'done', JSON.stringify(after));
    await worker2.delivery.drain();
  } finally {
    await worker2.stop();
    await opened2.store.close();
  }
  assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['order 0', 'order 1', 'order 2']);
});

it('fails clearly when another client deletes the folder mid-read, and does not pause the account', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const user = await dovecot.addUser('deleted', 'pw-deleted');
  await dovecot.createFolder(user.name, 'Orders');
  await dovecot.deliverMany(
    user.name,
    [0, 1].map((i) => makeEmail({ subject: `order ${i}`, text: `body ${i}` }).raw),
    { folder: 'Orders' },
  );
  const deleteFolder = async (): Promise<void> => {
    const other = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapsPort,
      secure: true,
      tls: { ca: dovecot.caPem },
      auth: { user: user.name, pass: user.password },
      logger: false,
    });
    await other.connect();
    await other.mailboxDelete('Orders');
    await other.logout();
  };
  let held = false;
  proxy.onServerData = byLine((line) => Buffer.from(line.toString('latin1').replace(/ STARTTLS/g, ''), 'latin1'));
  proxy.onClientData = byLine((line, connection) => {
    if (!held && /^\S+ UID FETCH .*BODY\.PEEK\[\]/i.test(line.toString('latin1'))) {
      held = true;
      void deleteFolder().then(() => connection.injectToServer(line));
      return null;
    }
    return line;
  });
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false, folder: 'Orders' })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(held && first.status === 'failed', `failed, not throttled: ${JSON.stringify(first)}`);
    assert.equal(first.error.code, 'FOLDER_NOT_FOUND');
    assert.match(first.error.explain(), /"Orders" was deleted or renamed by another client while it was being read/);
    assert.equal(await opened.store.getThrottle(throttleAccount(config.connections[0]!)), undefined, 'the account is not paused');
    assert.match((await opened.store.getConnectionState('inbox'))?.lastPoll?.error ?? '', /deleted or renamed/, 'the connection shows it');
    await worker.delivery.drain();
  } finally {
    await worker.stop();
    await opened.store.close();
    await proxy.close();
  }
  assert.deepEqual(await readDelivered(ws.outDir), [], 'nothing half-delivered');
});
