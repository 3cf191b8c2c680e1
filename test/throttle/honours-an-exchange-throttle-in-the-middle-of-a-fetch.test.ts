import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, quietLog, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { postgresTestStore, type TestStore } from '../support/stores.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const EMAILS = 20;
const DELIVERED_BEFORE_THROTTLE = 5;
const BACKOFF_MS = 2000;

let dovecot: Dovecot;
let proxy: TcpProxy;
let ws: Workspace;
let shared: TestStore;
before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapsPort });
  ws = await workspace();
  shared = await postgresTestStore();
});
after(async () => {
  await proxy?.close();
  await dovecot?.stop();
  await shared?.dispose();
  await ws?.dispose();
});

/**
 * Plain IMAP through the proxy so it can read the commands: the first FETCH of full messages gets
 * a few rows, then Exchange's "NO Request is throttled. Suggested Backoff Time" and a BYE.
 */
function injectExchangeThrottle(): { throttledAt: () => number | undefined } {
  let fetchTag: string | undefined;
  let throttledAt: number | undefined;
  let seen = 0;
  let tail = '';
  proxy.onClientData = byLine((line) => {
    const match = /^(\S+) UID FETCH \S+ \(.*BODY\.PEEK\[\]/i.exec(line.toString('latin1'));
    if (match && throttledAt === undefined) fetchTag = match[1];
    return line;
  });
  proxy.onServerData = (chunk, connection) => {
    if (!fetchTag || throttledAt !== undefined) return chunk;
    const text = chunk.toString('latin1');
    const marker = /\r\n\* \d+ FETCH \(/g;
    const scanned = tail + text;
    for (let found = marker.exec(scanned); found; found = marker.exec(scanned)) {
      seen += 1;
      if (seen > DELIVERED_BEFORE_THROTTLE) {
        const cutAt = Math.max(0, found.index - tail.length);
        throttledAt = Date.now();
        connection.inject(
          Buffer.concat([
            chunk.subarray(0, cutAt + 2),
            Buffer.from(`${fetchTag} NO Request is throttled. Suggested Backoff Time: ${BACKOFF_MS} milliseconds\r\n* BYE Connection closed. 14\r\n`),
          ]),
        );
        setTimeout(() => connection.cut(), 20);
        return null;
      }
    }
    tail = scanned.slice(-64);
    return chunk;
  };
  return { throttledAt: () => throttledAt };
}

it('keeps what it read, pauses every worker for the suggested backoff, then delivers every email exactly once', { timeout: 120_000 }, async () => {
  const user = await dovecot.addUser('exchange', 'pw-exchange');
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: EMAILS }, (_, i) => makeEmail({ subject: `exchange ${i}`, text: `body ${i}` }).raw),
  );
  // The proxy must read the commands, so this test uses plain IMAP on Dovecot's plain port.
  await proxy.close();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  const injected = injectExchangeThrottle();
  const connection = imapConnection(dovecot, user, { port: proxy.port, useSsl: false, tls: { rejectUnauthorized: true } });
  const config = { ...testConfig(ws, [connection]), store: shared.location };
  const account = throttleAccount(config.connections[0]!);
  const workerA = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-a' });
  const workerB = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-b' });
  // imapflow would upgrade with STARTTLS and hide the commands; the proxy strips the capability.
  const strip = proxy.onServerData!;
  proxy.onServerData = (chunk, c) => strip(Buffer.from(chunk.toString('latin1').replace(/ STARTTLS/g, ''), 'latin1'), c);

  const first = await workerA.poll(config.connections[0]!);
  assert.ok(injected.throttledAt(), 'the proxy throttled the FETCH');
  assert.equal(first.status, 'throttled', JSON.stringify(first));
  const state = await shared.store.getThrottle(account);
  assert.ok(state);
  assert.ok(
    state.until - injected.throttledAt()! >= BACKOFF_MS - 200,
    `the wait honours the suggested ${BACKOFF_MS} ms: ${state.until - injected.throttledAt()!} ms`,
  );
  assert.match(state.reason, /Request is throttled/);

  const delivering = await workerA.delivery.drain();
  assert.ok(delivering.delivered >= DELIVERED_BEFORE_THROTTLE, 'emails read before the throttle keep flowing to the destination');
  const connectionsBefore = proxy.allConnections().length;
  assert.equal((await workerB.poll(config.connections[0]!)).status, 'throttled', 'the other worker pauses too');
  assert.equal(proxy.allConnections().length, connectionsBefore, 'and sends nothing to the throttled account');

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, state.until - Date.now()) + 50));
  const resumed = await workerA.poll(config.connections[0]!);
  assert.equal(resumed.status, 'done', JSON.stringify(resumed));
  await workerA.delivery.drain();
  await workerA.stop();
  await workerB.stop();

  const delivered = await readDelivered(ws.outDir);
  assert.equal(delivered.length, EMAILS);
  assert.equal(new Set(delivered.map((d) => d.envelope.email.subject)).size, EMAILS, 'every email exactly once');
  const onServer = await dovecot.listMessages(user.name);
  assert.ok(
    onServer.every((m) => m.flags.includes('\\Seen')),
    'every email acknowledged after the pause',
  );
});
