import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, quietLog, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { postgresTestStore, type TestStore } from '../support/stores.ts';

let dovecot: Dovecot;
let ws: Workspace;
let shared: TestStore;
before(async () => {
  dovecot = await startDovecot({ maxUserIpConnections: 1 });
  ws = await workspace();
  shared = await postgresTestStore();
});
after(async () => {
  await dovecot?.stop();
  await shared?.dispose();
  await ws?.dispose();
});

it('treats NO [LIMIT] at login as throttling, pauses every worker, and delivers each email once after the limit frees', { timeout: 120_000 }, async () => {
  const user = await dovecot.addUser('limited', 'pw-limited');
  await dovecot.deliverMany(
    user.name,
    Array.from({ length: 12 }, (_, i) => makeEmail({ subject: `limited ${i}`, text: `x ${i}` }).raw),
  );
  const connection = imapConnection(dovecot, user, { throttleLatency: '2s' });
  const config = { ...testConfig(ws, [connection]), store: shared.location };
  const account = throttleAccount(config.connections[0]!);

  // Another client holds the one connection Dovecot allows this user from 127.0.0.1.
  const squatter = new ImapFlow({
    host: '127.0.0.1',
    port: dovecot.imapsPort,
    secure: true,
    auth: { user: user.name, pass: user.password },
    tls: { ca: dovecot.caPem },
    logger: false,
  });
  await squatter.connect();

  const workerA = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-a' });
  const workerB = new Worker({ createDestination, config, opened: shared, log: quietLog, holder: 'worker-b' });
  const first = await workerA.poll(config.connections[0]!);
  assert.equal(first.status, 'throttled', JSON.stringify(first));
  assert.ok(first.status === 'throttled' && /LIMIT|Maximum number of connections/.test(first.reason), 'the reason carries the server words');
  const state = await shared.store.getThrottle(account);
  assert.ok(state && state.until > Date.now(), 'throttledUntil is recorded in the shared store');

  // The other worker does not even connect while the account is throttled.
  const attempts = async () => (await dovecot.tail(1000)).split('\n').filter((l) => l.includes('imap-login') && l.includes('rip=127.0.0.1,')).length;
  const attemptsBefore = await attempts();
  const second = await workerB.poll(config.connections[0]!);
  assert.equal(second.status, 'throttled');
  assert.equal(await attempts(), attemptsBefore, 'no connection was made to the throttled account');

  await squatter.logout();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, state.until - Date.now()) + 50));
  const third = await workerA.poll(config.connections[0]!); // A still holds the lease (seed: for the polling interval)
  assert.equal(third.status, 'done', JSON.stringify(third));
  assert.equal(await shared.store.getThrottle(account), undefined, 'the throttle is cleared once reading resumed');
  await workerA.delivery.drain();
  await workerA.stop();
  await workerB.stop();

  const delivered = await readDelivered(ws.outDir);
  assert.equal(delivered.length, 12);
  assert.equal(new Set(delivered.map((d) => d.envelope.email.subject)).size, 12, 'every email exactly once');
  const polls = await shared.store.getConnectionState('inbox');
  assert.equal(polls?.consecutiveFailures, 0, 'throttled waits are not failures');
});
