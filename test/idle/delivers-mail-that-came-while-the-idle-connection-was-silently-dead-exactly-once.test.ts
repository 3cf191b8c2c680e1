import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { deliveredWithSubject, type RunningWorker, startWorker, until } from './idle-kit.ts';

/** The bound for noticing a dead IDLE connection, plus slack for a loaded machine. */
const DETECT_LIMIT_MS = 60_000 + 5_000;
/** After the network is back: a reconnect (first backoff step ≤ 1 s, a failed attempt or two) and the catch-up poll. */
const RECOVER_LIMIT_MS = 30_000;
const PICKUP_LIMIT_MS = 5_000;

let dovecot: Dovecot;
let proxy: TcpProxy;
let ws: Workspace;
let running: RunningWorker | undefined;

before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.imapsPort });
  ws = await workspace();
});
after(async () => {
  await running?.stop();
  await proxy?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

it('notices the half-open IDLE connection, reconnects, and delivers what came meanwhile exactly once', { timeout: 180_000 }, async () => {
  const user = await dovecot.addUser('halfopen', 'pw-halfopen');
  // Everything goes through the proxy; a short connect timeout so attempts into the blackhole fail fast.
  const connection = imapConnection(dovecot, user, { port: proxy.port, pollingInterval: '1h', connectTimeout: '5s' });
  running = await startWorker(testConfig(ws, [connection]));
  const { polls } = running;
  await until('the first poll and the watcher catch-up poll', () => polls.length >= 2, 15_000);
  await until('the polls to log out, leaving the IDLE connection alone', () => proxy.connections() === 1, 10_000);
  const idleConnection = proxy.allConnections().find((c) => !c.closed)!;

  // The network silently stops forwarding: the IDLE connection looks open but hears nothing.
  proxy.blackhole();
  const outageStarted = Date.now();
  const during = ['while dead 1', 'while dead 2'];
  for (const subject of during) await dovecot.append(user.name, makeEmail({ subject, text: `${subject}\n` }).raw);

  await until('the watcher to give up the dead connection', () => idleConnection.closed, DETECT_LIMIT_MS, 250);
  const detectedAfter = Date.now() - outageStarted;
  assert.ok(detectedAfter < DETECT_LIMIT_MS, `dead connection noticed after ${detectedAfter} ms`);
  assert.equal((await readDelivered(ws.outDir)).length, 0, 'nothing could be delivered during the outage');

  proxy.resume();
  for (const subject of during) {
    await until(`"${subject}" after the outage`, async () => (await deliveredWithSubject(ws.outDir, subject)) > 0, RECOVER_LIMIT_MS, 100);
  }

  // IDLE works again on the new connection.
  const afterwards = 'after recovery';
  const started = Date.now();
  await dovecot.append(user.name, makeEmail({ subject: afterwards, text: `${afterwards}\n` }).raw);
  await until(`"${afterwards}" in the destination`, async () => (await deliveredWithSubject(ws.outDir, afterwards)) > 0, PICKUP_LIMIT_MS);
  assert.ok(Date.now() - started < PICKUP_LIMIT_MS);

  const delivered = await readDelivered(ws.outDir);
  assert.deepEqual(delivered.map((d) => d.envelope.email.subject).sort(), [...during, afterwards].sort(), 'each email exactly once');
  assert.ok(
    polls.every((outcome) => outcome.status !== 'failed' || outcome.error.retryable),
    JSON.stringify(polls),
  );
});
