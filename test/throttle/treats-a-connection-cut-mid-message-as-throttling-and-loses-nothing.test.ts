import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

let dovecot: Dovecot;
let proxy: TcpProxy;
let ws: Workspace;
before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapsPort });
  ws = await workspace();
});
after(async () => {
  await proxy?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

it('pauses the account when the server closes the connection mid-message (seed: FolderClosedException), then delivers each email once', {
  timeout: 120_000,
}, async () => {
  const user = await dovecot.addUser('cut', 'pw-cut');
  const emails = Array.from({ length: 8 }, (_, i) =>
    makeEmail({
      subject: `cut ${i}`,
      text: 'x',
      attachments: [{ filename: `f${i}.bin`, content: pseudoRandomBytes(200 * 1024, `cut${i}`), contentType: 'application/octet-stream' }],
    }),
  );
  await dovecot.deliverMany(
    user.name,
    emails.map((e) => e.raw),
  );
  const config = testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, throttleLatency: '1s' })]);
  const account = throttleAccount(config.connections[0]!);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    proxy.cutAfterServerBytes(700 * 1024); // in the middle of the fourth email
    const first = await worker.poll(config.connections[0]!);
    assert.equal(first.status, 'throttled', JSON.stringify(first));
    const throttle = await opened.store.getThrottle(account);
    assert.ok(throttle && throttle.until > Date.now() - 1000);
    assert.match(throttle.reason, /clos|connection/i);

    proxy.cutAfterServerBytes(null);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, throttle.until - Date.now()) + 50));
    const second = await worker.poll(config.connections[0]!);
    assert.equal(second.status, 'done', JSON.stringify(second));
    await worker.delivery.drain();
  } finally {
    await worker.stop();
    await opened.store.close();
  }
  const delivered = await readDelivered(ws.outDir);
  assert.equal(delivered.length, emails.length * 2);
  const bySha = new Set(delivered.map((d) => d.sha256));
  for (const email of emails) for (const part of email.expected.parts) assert.ok(bySha.has(part.sha256), `${email.name} ${part.filename} arrived byte-exact`);
  const onServer = await dovecot.listMessages(user.name);
  assert.ok(onServer.every((m) => m.flags.includes('\\Seen')));
});
