/**
 * What the status board and `postroom status` read from the store, the same on both backends:
 * polling now (cleared only by the worker that set it, and by the poll's record), the service's
 * `enabled`, who paused a connection, the last poll that read the mailbox (a throttled wait does
 * not count), and the delivery health per connection and destination with the latest error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import type { EmailCommit } from '../../src/store/store.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

function commitFor(connection: string, uid: number, now: number, destinations: string[]): EmailCommit {
  const sourceKey = `imap:INBOX:1:${uid}`;
  const envelope = (partIndex: number): Envelope => ({
    id: pipelineMessageId(connection, sourceKey, partIndex),
    connection,
    kind: partIndex === 0 ? 'body' : 'attachment',
    filename: `p${partIndex}.txt`,
    contentType: 'text/plain',
    size: 1,
    sha256: 'x',
    partIndex,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    email: { messageId: `<${uid}@x>`, from: null, to: [], cc: [], subject: null, date: null },
    receivedAt: new Date(now).toISOString(),
  });
  return {
    connection,
    sourceKey,
    key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    fingerprint: null,
    messageId: `<${uid}@x>`,
    rawSha256: `sha-${uid}`,
    rawRef: `ab/${'0'.repeat(36)}`,
    messages: destinations.map((destination, i) => ({ envelope: envelope(i), destination, contentRef: `cd/${'1'.repeat(36)}` })),
    now,
  };
}

for (const backend of STORE_BACKENDS) {
  describe(`the ${backend.name} store's operator state`, () => {
    let t: TestStore;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t.dispose();
    });

    it('keeps polling now, enabled, paused and the last successful poll for every reader', async () => {
      await t.store.markPolling('orders', 'worker-a', 1_000);
      assert.deepEqual(
        { since: (await t.store.getConnectionState('orders'))?.pollingSince, holder: (await t.store.getConnectionState('orders'))?.pollingHolder },
        { since: 1_000, holder: 'worker-a' },
      );
      await t.store.markPolling('orders', 'worker-b', null);
      assert.equal((await t.store.getConnectionState('orders'))?.pollingSince, 1_000, 'another worker cannot clear it');
      const poll = { connection: 'orders', holder: 'worker-a', startedAt: 1_000, finishedAt: 1_500, ok: true, emails: 1, messages: 2, error: null };
      await t.store.recordPoll(poll, 61_000);
      let state = await t.store.getConnectionState('orders');
      assert.deepEqual({ polling: state?.pollingSince, lastOk: state?.lastOkPollAt }, { polling: null, lastOk: 1_500 });
      await t.store.recordPoll({ ...poll, startedAt: 70_000, finishedAt: 70_100, throttled: true, error: 'throttled: busy' }, 130_000);
      assert.equal((await t.store.getConnectionState('orders'))?.lastOkPollAt, 1_500, 'a throttled wait is no successful poll');

      assert.equal(state?.enabled, null, 'no service has said yet');
      await t.store.recordEnabled([
        { name: 'orders', enabled: true },
        { name: 'invoices', enabled: false },
      ]);
      assert.equal((await t.store.getConnectionState('orders'))?.enabled, true);
      assert.equal((await t.store.getConnectionState('invoices'))?.enabled, false);

      await t.store.setPaused('orders', { by: 'CLI (alice)', at: 200_000 });
      state = await t.store.getConnectionState('orders');
      assert.deepEqual({ by: state?.pausedBy, at: state?.pausedAt, emails: state?.emailsTotal }, { by: 'CLI (alice)', at: 200_000, emails: 2 });
      await t.store.setPaused('orders', null);
      assert.equal((await t.store.getConnectionState('orders'))?.pausedBy, null);
    });

    it('reports delivery health per connection and destination with the latest error, and the oldest undelivered', async () => {
      const lease = (await t.store.acquireLease('shop', 'w', 60_000, 10_000))!;
      await t.store.commitEmail(lease, commitFor('shop', 1, 10_000, ['hook', 'files']));
      await t.store.commitEmail(lease, commitFor('shop', 2, 12_000, ['hook', 'files']));
      const [hook1, files1] = [pipelineMessageId('shop', 'imap:INBOX:1:1', 0), pipelineMessageId('shop', 'imap:INBOX:1:1', 1)];
      const hook2 = pipelineMessageId('shop', 'imap:INBOX:1:2', 0);
      assert.deepEqual(await t.store.deliveryHealth(), [], 'nothing failed yet');
      await t.store.markFailed({ id: hook1, error: 'answered 503', nextAttemptAt: 20_000, dead: true, now: 14_000 });
      await t.store.markFailed({ id: hook2, error: 'answered 500', nextAttemptAt: 20_000, dead: false, now: 15_000 });
      await t.store.markFailed({ id: files1, error: 'ENOSPC', nextAttemptAt: 20_000, dead: false, now: 13_000 });
      assert.deepEqual(await t.store.deliveryHealth(), [
        { connection: 'shop', destination: 'files', retrying: 1, dead: 0, lastError: 'ENOSPC', lastErrorAt: 13_000 },
        { connection: 'shop', destination: 'hook', retrying: 1, dead: 1, lastError: 'answered 500', lastErrorAt: 15_000 },
      ]);
      const [counts] = (await t.store.outboxCounts()).filter((c) => c.connection === 'shop');
      assert.deepEqual(counts, { connection: 'shop', pending: 3, dead: 1, oldestAt: 10_000 });

      const claimed = await t.store.claimIds([hook1, 'nope'], 16_000, 'replayer', 60_000);
      assert.deepEqual(
        claimed.map((m) => m.id),
        [hook1],
        'a dead letter is claimed by id whatever its schedule',
      );
      assert.deepEqual(await t.store.claimIds([hook1], 16_001, 'other', 60_000), [], 'not twice');
    });
  });
}
