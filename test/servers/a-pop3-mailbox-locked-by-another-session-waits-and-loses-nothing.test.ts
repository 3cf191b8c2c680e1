import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { openWorkspaceStore, pop3Connection, quietLog, readDelivered, testConfig } from '../support/postroom.ts';

/** A POP3 session of another client that logs in and holds the mailbox (pop3_lock_session = yes). */
async function holdMailbox(port: number, user: string, password: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let seen = '';
  let sent = false;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const oks = seen.split('\r\n').filter((line) => line.startsWith('+OK')).length;
      if (oks === 1 && !sent) {
        sent = true;
        socket.write(`USER ${user}\r\nPASS ${password}\r\n`);
      }
      if (oks >= 3) resolve();
      if (seen.includes('-ERR')) reject(new Error(seen));
    });
  });
  return socket;
}

/** Dovecot waits about 10 s for the lock before it answers -ERR [IN-USE] to PASS (seen with Dovecot 2.3.19), so this test takes that long. */
it('says a POP3 mailbox locked by another session is in use, waits, and then delivers each email once', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace({ extraConfig: 'pop3_lock_session = yes' });
  const user = await dovecot.addUser('locked', 'pw-locked');
  await dovecot.deliverMany(
    user.name,
    [0, 1, 2].map((i) => makeEmail({ subject: `locked ${i}`, text: `body ${i}` }).raw),
  );
  const other = await holdMailbox(dovecot.pop3Port, user.name, user.password);
  const config = testConfig(ws, [pop3Connection(dovecot, user, { throttleLatency: '1s' })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  try {
    const first = await worker.poll(config.connections[0]!);
    assert.ok(first.status === 'throttled', `a wait, not a failure: ${JSON.stringify(first)}`);
    assert.match(first.reason, /IN-USE/);
    const state = await opened.store.getConnectionState('inbox');
    assert.match(state?.lastPoll?.error ?? '', /IN-USE/, 'the connection shows the server said the mailbox is in use');
    assert.equal((await dovecot.listMessages(user.name)).length, 3, 'nothing was taken');

    other.end('QUIT\r\n');
    await new Promise((resolve) => other.once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.until - Date.now()) + 50));
    const next = await worker.poll(config.connections[0]!);
    assert.equal(next.status, 'done', JSON.stringify(next));
    await worker.delivery.drain();
  } finally {
    other.destroy();
    await worker.stop();
    await opened.store.close();
  }
  assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['locked 0', 'locked 1', 'locked 2']);
  assert.deepEqual(await dovecot.listMessages(user.name), [], 'the mailbox is empty at the end');
});
