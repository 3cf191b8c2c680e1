import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { pop3Connection, quietLog, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { postgresTestStore, type TestStore } from '../support/stores.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const EMAILS = 10;
const IN_USE = '-ERR [IN-USE] Mailbox is locked by another POP3 session.';

let dovecot: Dovecot;
let proxy: TcpProxy;
let ws: Workspace;
let shared: TestStore;
before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.pop3Port });
  ws = await workspace();
  shared = await postgresTestStore();
});
after(async () => {
  await proxy?.close();
  await dovecot?.stop();
  await shared?.dispose();
  await ws?.dispose();
});

it('skips the remaining emails on -ERR [IN-USE], pauses every worker, and takes the rest at the next wake, each once', { timeout: 120_000 }, async () => {
  const user = await dovecot.addUser('popinuse', 'pw-popinuse');
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: EMAILS }, (_, i) => makeEmail({ subject: `pop ${i}`, text: `body ${i}` }).raw),
  );

  // The 4th RETR of the first session asks Dovecot for a message that does not exist, so its
  // -ERR comes back in order even when RETRs are pipelined; that line is then reworded into
  // Dovecot's IN-USE answer.
  let retrs = 0;
  let injected = false;
  proxy.onClientData = byLine((line, connection) => {
    if (connection.index === 0 && /^RETR /i.test(line.toString()) && ++retrs === 4) {
      injected = true;
      return Buffer.from('RETR 999999\r\n');
    }
    return line;
  });
  proxy.onServerData = byLine((line) => (/^-ERR .*999999/.test(line.toString()) ? Buffer.from(`${IN_USE}\r\n`) : line));

  const connection = pop3Connection(dovecot, user, { port: proxy.port, useSsl: false, startTls: false, throttleLatency: '2s' });
  const config = { ...testConfig(ws, [connection]), store: shared.location };
  const account = throttleAccount(config.connections[0]!);
  const workerA = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-a' });
  const workerB = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-b' });
  try {
    const first = await workerA.poll(config.connections[0]!);
    assert.ok(injected, 'the proxy answered a RETR with IN-USE');
    assert.equal(first.status, 'throttled', JSON.stringify(first));
    const state = await shared.store.getThrottle(account);
    assert.ok(state && state.until > Date.now());
    assert.match(state.reason, /IN-USE/);
    assert.ok((await dovecot.listMessages(user.name)).length > 0, 'the remaining emails were left on the server');

    const sessions = proxy.allConnections().length;
    assert.equal((await workerB.poll(config.connections[0]!)).status, 'throttled', 'the other worker pauses too');
    assert.equal(proxy.allConnections().length, sessions, 'and does not connect');

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, state.until - Date.now()) + 50));
    const next = await workerA.poll(config.connections[0]!);
    assert.equal(next.status, 'done', JSON.stringify(next));
    await workerA.delivery.drain();
  } finally {
    await workerA.stop();
    await workerB.stop();
  }
  const delivered = await readDelivered(ws.outDir);
  assert.equal(delivered.length, EMAILS);
  assert.equal(new Set(delivered.map((d) => d.envelope.email.subject)).size, EMAILS, 'every email exactly once');
  assert.deepEqual(await dovecot.listMessages(user.name), [], 'the mailbox is empty at the end');
});
