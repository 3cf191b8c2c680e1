import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, quietLog, readDelivered, testConfig, workspace } from '../support/postroom.ts';
import { postgresTestStore } from '../support/stores.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/workers.ts';

const EMAILS = 24;
/** The slow worker's link: ~2.4 MB at this rate takes ~12 s, well past the 5 s lease. */
const BYTES_PER_MS = 200;

let dovecot: Dovecot;
before(async () => {
  dovecot = await startDovecot();
});
after(async () => dovecot?.stop());

async function scenario(name: string, useProcessLock: boolean) {
  const user = await dovecot.addUser(name, `pw-${name}`);
  await dovecot.deliverMany(
    user.name,
    Array.from(
      { length: EMAILS },
      (_, i) =>
        makeEmail({
          subject: `${name} ${i}`,
          text: 'x',
          attachments: [{ filename: 'a.bin', content: pseudoRandomBytes(96 * 1024, `${name}${i}`), contentType: 'application/octet-stream' }],
        }).raw,
    ),
  );
  const ws = await workspace();
  const shared = await postgresTestStore();
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: dovecot.imapsPort });
  let sendAt = 0;
  proxy.onServerData = (chunk, connection) => {
    // A slow link: each chunk leaves when the previous one has "arrived", in order.
    sendAt = Math.max(sendAt, Date.now()) + chunk.length / BYTES_PER_MS;
    setTimeout(() => connection.inject(chunk), sendAt - Date.now());
    return null;
  };
  const base = { pollingInterval: '1s', useProcessLock } as const;
  const slowConfig: Config = { ...testConfig(ws, [imapConnection(dovecot, user, { ...base, port: proxy.port })]), store: shared.location };
  const fastConfig: Config = { ...testConfig(ws, [imapConnection(dovecot, user, base)]), store: shared.location };
  const slow = new Worker({ createDestination, config: slowConfig, opened: shared, log: quietLog, holder: 'slow' });
  const fast = new Worker({ createDestination, config: fastConfig, opened: shared, log: quietLog, holder: 'fast' });
  return { user, ws, shared, proxy, slow, fast, slowConfig, fastConfig };
}

describe('a run slower than its lease', () => {
  it('without the process lock: another worker takes over and the slow one cannot commit; every email once', { timeout: 120_000 }, async () => {
    const s = await scenario('nolock', false);
    try {
      const slowRun = s.slow.poll(s.slowConfig.connections[0]!);
      s.fast.start(); // its scheduler takes the lease as soon as the slow worker's runs out
      const outcome = await slowRun;
      // Either the slow run learns at its first commit that the lease was handed over, or (if
      // the other worker was already done and its lease ran out too) it finds every email
      // already emitted and commits nothing.
      assert.ok(outcome.status === 'leased-elsewhere' || outcome.status === 'done', JSON.stringify(outcome));
      if (outcome.status === 'leased-elsewhere') assert.equal(outcome.holder, 'fast');
      if (outcome.status === 'done') assert.equal(outcome.result.emails, 0, 'the slow worker committed nothing the other had taken');
      const state = await s.shared.store.getConnectionState('inbox');
      assert.equal(state?.consecutiveFailures ?? 0, 0, 'a handover is not a failed poll');
      const all = await waitFor(async () => (await readDelivered(s.ws.outDir)).length >= EMAILS * 2, 60_000);
      assert.ok(all);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const delivered = await readDelivered(s.ws.outDir);
      assert.equal(delivered.length, EMAILS * 2, 'body + attachment of each email, none twice');
      assert.equal(new Set(delivered.map((d) => d.envelope.email.subject)).size, EMAILS);
      const polls = await s.shared.store.getConnectionState('inbox');
      assert.ok((polls?.emailsTotal ?? 0) >= EMAILS);
    } finally {
      await s.slow.stop();
      await s.fast.stop();
      await s.proxy.close();
      await s.shared.dispose();
      await s.ws.dispose();
    }
  });

  it('with the process lock: no second run starts until the first ends', { timeout: 120_000 }, async () => {
    const s = await scenario('locked', true);
    try {
      const started = Date.now();
      const slowRun = s.slow.poll(s.slowConfig.connections[0]!);
      s.fast.start();
      const outcome = await slowRun;
      const finished = Date.now();
      assert.equal(outcome.status, 'done', JSON.stringify(outcome));
      assert.ok(finished - started > 6000, `the run outlived a plain lease (${finished - started} ms)`);
      assert.equal(outcome.status === 'done' && outcome.result.emails, EMAILS, 'the locked run kept its lease and committed everything');
      await s.fast.stop();
      const leases = await s.shared.store.listLeases();
      assert.equal(leases[0]?.holder, 'slow', 'the other worker never took the lease during the run');
      const delivered = await s.slow.delivery.drain().then(() => readDelivered(s.ws.outDir));
      assert.equal(delivered.length, EMAILS * 2);
    } finally {
      await s.slow.stop();
      await s.fast.stop();
      await s.proxy.close();
      await s.shared.dispose();
      await s.ws.dispose();
    }
  });
});
