import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { throttleAccount } from '../../src/throttle/account.ts';
import { makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { byLine, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

/** Larger than the batched-fetch limit (1 MB), so each email is its own fetch and pacing shows between them. */
const EMAIL_BYTES = 1_200_000;
const EMAILS = 3;

let dovecot: Dovecot;
let proxy: TcpProxy;
let ws: Workspace;
before(async () => {
  dovecot = await startDovecot();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapPort });
  ws = await workspace();
});
after(async () => {
  await proxy?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

async function drain(throttledReplies: boolean) {
  const user = await dovecot.addUser(throttledReplies ? 'paced' : 'unpaced', 'pw-paced');
  await dovecot.deliverMany(
    user.name,
    Array.from(
      { length: EMAILS },
      (_, i) =>
        makeEmail({
          subject: `big ${i}`,
          text: 'x',
          attachments: [{ filename: `b${i}.bin`, content: pseudoRandomBytes(EMAIL_BYTES, `b${i}`), contentType: 'application/octet-stream' }],
        }).raw,
    ),
  );
  let rewritten = 0;
  // Plain IMAP so the proxy sees the replies; STARTTLS is hidden from the client.
  proxy.onServerData = byLine((line) => {
    let text = line.toString('latin1').replace(/ STARTTLS/g, '');
    // Gmail's "slow down": the tagged OK of each partial FETCH carries [THROTTLED].
    if (throttledReplies && /^\S+ OK Fetch completed/.test(text)) {
      text = text.replace(/\r\n$/, '').concat(' [THROTTLED]\r\n');
      rewritten += 1;
    }
    return Buffer.from(text, 'latin1');
  });
  const out = await workspace();
  const config = testConfig(out, [imapConnection(dovecot, user, { port: proxy.port, useSsl: false })]);
  const opened = await openWorkspaceStore(config);
  const worker = new Worker({ createDestination, config, opened, log: quietLog });
  const started = Date.now();
  try {
    const outcome = await worker.poll(config.connections[0]!);
    const took = Date.now() - started;
    await worker.delivery.drain();
    const throttle = await opened.store.getThrottle(throttleAccount(config.connections[0]!));
    return { outcome, took, rewritten, throttle, delivered: await readDelivered(out.outDir) };
  } finally {
    await worker.stop();
    await opened.store.close();
    await out.dispose();
  }
}

it('pauses between commands after OK [THROTTLED], does not stop or pause the account, and delivers everything', { timeout: 120_000 }, async () => {
  const plain = await drain(false);
  const paced = await drain(true);
  assert.ok(paced.rewritten > 0, 'the proxy marked replies [THROTTLED]');
  assert.equal(paced.outcome.status, 'done', JSON.stringify(paced.outcome));
  assert.equal(paced.throttle, undefined, 'a slow-down is not a pause of the account');
  assert.equal(paced.delivered.length, EMAILS * 2);
  assert.ok(paced.took - plain.took >= 1500, `the run was paced (${paced.took} ms against ${plain.took} ms)`);
});
