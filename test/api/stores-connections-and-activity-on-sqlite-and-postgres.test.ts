import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Envelope } from '../../src/model/envelope.ts';
import { STORE_BACKENDS } from '../support/stores.ts';

for (const backend of STORE_BACKENDS) {
  describe(`the control plane's store queries on ${backend.name}`, () => {
    it('keeps API connections: insert once, update, enable, delete', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        const row = { name: 'orders', config: { hostType: 'imap', host: 'h', password: 'p' }, enabled: true, createdAt: 1_000, updatedAt: 1_000 };
        assert.equal(await store.insertManagedConnection(row), true);
        assert.equal(await store.insertManagedConnection({ ...row, config: {} }), false, 'a second insert with the name is refused');
        assert.deepEqual(await store.getManagedConnection('orders'), row);
        assert.equal(await store.updateManagedConnection('orders', { config: { hostType: 'imap', host: 'h2' } }, 2_000), true);
        assert.equal(await store.updateManagedConnection('orders', { enabled: false }, 3_000), true);
        assert.deepEqual(await store.getManagedConnection('orders'), { ...row, config: { hostType: 'imap', host: 'h2' }, enabled: false, updatedAt: 3_000 });
        assert.equal(await store.updateManagedConnection('missing', { enabled: true }, 1), false);
        assert.deepEqual(
          (await store.listManagedConnections()).map((c) => c.name),
          ['orders'],
        );
        assert.equal(await store.deleteManagedConnection('orders'), true);
        assert.equal(await store.deleteManagedConnection('orders'), false);
        assert.deepEqual(await store.listManagedConnections(), []);
      } finally {
        await opened.dispose();
      }
    });

    it('sums polls per minute and counts the outbox per connection in one query each', async () => {
      const opened = await backend.open();
      try {
        const { store } = opened;
        const minute = 60_000;
        const t0 = 1_700_000_040_000; // a whole minute
        const poll = (connection: string, at: number, emails: number, messages: number) =>
          store.recordPoll({ connection, holder: 'w', startedAt: at, finishedAt: at + 50, ok: true, emails, messages, error: null }, at + minute);
        await poll('a', t0 + 1_000, 2, 3);
        await poll('b', t0 + 30_000, 1, 1);
        await poll('a', t0 + 2 * minute + 5, 4, 8);
        await poll('a', t0 - 10 * minute, 9, 9);
        const activity = await store.pollActivity(t0, minute);
        assert.deepEqual(activity, [
          { at: t0, polls: 2, emails: 3, messages: 4 },
          { at: t0 + 2 * minute, polls: 1, emails: 4, messages: 8 },
        ]);
        assert.deepEqual(await store.outboxCounts(), []);

        const lease = (await store.acquireLease('a', 'w', minute, t0))!;
        const envelope = (id: string): Envelope => ({
          id,
          connection: 'a',
          kind: 'body',
          filename: 'body.txt',
          contentType: 'text/plain',
          size: 1,
          sha256: 'x',
          partIndex: 0,
          source: { protocol: 'imap' },
          email: { messageId: null, from: null, to: [], cc: [], subject: null, date: null },
          receivedAt: '',
        });
        await store.commitEmail(lease, {
          connection: 'a',
          sourceKey: 'imap:INBOX:1:1',
          key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: 1 },
          fingerprint: null,
          messageId: null,
          rawSha256: 'r',
          rawRef: 'raw-1',
          messages: ['m1', 'm2', 'm3'].map((id) => ({ envelope: envelope(id), destination: 'out', contentRef: `c-${id}` })),
          now: t0,
        });
        await store.markFailed({ id: 'm1', error: 'boom', nextAttemptAt: null, dead: true, now: t0 });
        await store.markDelivered(['m2'], t0);
        assert.deepEqual(await store.outboxCounts(), [{ connection: 'a', pending: 1, dead: 1, oldestAt: t0 }]);
      } finally {
        await opened.dispose();
      }
    });
  });
}
