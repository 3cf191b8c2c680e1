import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import type { EmailCommit } from '../../src/store/store.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

function envelope(connection: string, sourceKey: string, partIndex: number): Envelope {
  return {
    id: pipelineMessageId(connection, sourceKey, partIndex),
    connection,
    kind: partIndex === 0 ? 'body' : 'attachment',
    filename: partIndex === 0 ? 'body.txt' : `a${partIndex}.bin`,
    contentType: 'text/plain',
    size: 1,
    sha256: 'x',
    partIndex,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: 1 },
    email: { messageId: '<m@x>', from: null, to: [], cc: [], subject: null, date: null },
    receivedAt: new Date(0).toISOString(),
  };
}

function commitFor(connection: string, uid: number, now: number, parts = 2): EmailCommit {
  const sourceKey = `imap:INBOX:1:${uid}`;
  return {
    connection,
    sourceKey,
    key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    fingerprint: null,
    messageId: `<${uid}@x>`,
    rawSha256: `sha-${uid}`,
    rawRef: `ab/${'0'.repeat(36)}`,
    messages: Array.from({ length: parts }, (_, i) => ({
      envelope: envelope(connection, sourceKey, i),
      destination: 'out',
      contentRef: `cd/${'1'.repeat(36)}`,
    })),
    cursor: { uidValidity: '1', lastUid: uid },
    now,
  };
}

for (const backend of STORE_BACKENDS) {
  describe(`the ${backend.name} store`, () => {
    let t: TestStore;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t.dispose();
    });

    it('grants a lease to one holder at a time, with a higher fencing token each grant', async () => {
      const a = await t.store.acquireLease('c1', 'worker-a', 1000, 10_000);
      assert.ok(a);
      assert.equal(await t.store.acquireLease('c1', 'worker-b', 1000, 10_500), null);
      const b = await t.store.acquireLease('c1', 'worker-b', 1000, 11_001);
      assert.ok(b);
      assert.ok(b.token > a.token);
      assert.equal(await t.store.renewLease(a, 1000, 11_002), null, 'the old holder cannot renew');
    });

    it('grants the lease to exactly one of many concurrent claimants', async () => {
      const grants = await Promise.all(Array.from({ length: 8 }, (_, i) => t.store.acquireLease('race', `w${i}`, 60_000, 20_000)));
      assert.equal(grants.filter(Boolean).length, 1);
    });

    it('commits ledger, outbox and cursor together, and refuses a stale lease', async () => {
      const lease = (await t.store.acquireLease('c2', 'w', 5000, 30_000))!;
      await t.store.commitEmail(lease, commitFor('c2', 7, 30_001));
      assert.equal((await t.store.findLedger('c2', 'imap:INBOX:1:7'))?.state, 'emitted');
      assert.deepEqual(await t.store.getCursor('c2'), { uidValidity: '1', lastUid: 7 });
      assert.equal(await t.store.outboxDepth('c2'), 2);

      const thief = (await t.store.acquireLease('c2', 'other', 5000, 36_000))!;
      await assert.rejects(t.store.commitEmail(lease, commitFor('c2', 8, 36_001)), (error) => isPostroomError(error, 'LEASE_LOST'));
      assert.equal(await t.store.findLedger('c2', 'imap:INBOX:1:8'), undefined, 'nothing of the refused commit is kept');
      assert.equal(await t.store.outboxDepth('c2'), 2);
      await assert.rejects(t.store.markAcknowledged(lease, 'c2', ['imap:INBOX:1:7'], 36_002), (error) => isPostroomError(error, 'LEASE_LOST'));
      await t.store.markAcknowledged(thief, 'c2', ['imap:INBOX:1:7'], 36_003);
      assert.deepEqual(await t.store.pendingAcknowledgements('c2'), []);
    });

    it('refuses to emit the same email twice, but takes a new email under a reused key', async () => {
      const lease = (await t.store.acquireLease('c5', 'w', 5000, 60_000))!;
      assert.equal(await t.store.commitEmail(lease, commitFor('c5', 1, 60_001)), 'committed');
      assert.equal(await t.store.commitEmail(lease, commitFor('c5', 1, 60_002)), 'already-emitted', 'an overlapping run cannot emit it again');
      assert.equal(await t.store.outboxDepth('c5'), 2);
      const reused = { ...commitFor('c5', 1, 60_003), fingerprint: 'headers-of-a-new-email' };
      assert.equal(await t.store.commitEmail(lease, reused), 'committed', 'a reused POP3 UIDL with new headers is a new email');
      assert.equal((await t.store.findLedger('c5', 'imap:INBOX:1:1'))?.fingerprint, 'headers-of-a-new-email');
    });

    it('commits a group of emails in one transaction: all of it, or none of it under a lost lease', async () => {
      const lease = (await t.store.acquireLease('c6', 'w', 5000, 70_000))!;
      assert.equal(await t.store.commitEmail(lease, commitFor('c6', 2, 70_001)), 'committed');
      const outcomes = await t.store.commitEmails(lease, [commitFor('c6', 1, 70_002), commitFor('c6', 2, 70_002), commitFor('c6', 3, 70_002, 3)]);
      assert.deepEqual(outcomes, ['committed', 'already-emitted', 'committed'], 'each email its own outcome, in order');
      assert.equal(await t.store.outboxDepth('c6'), 2 + 2 + 3);
      assert.deepEqual(await t.store.getCursor('c6'), { uidValidity: '1', lastUid: 3 }, 'the cursor of the last email');
      const found = await t.store.findLedgerEntries('c6', ['imap:INBOX:1:1', 'imap:INBOX:1:3', 'imap:INBOX:1:9']);
      assert.deepEqual([...found.keys()].sort(), ['imap:INBOX:1:1', 'imap:INBOX:1:3']);

      await t.store.acquireLease('c6', 'other', 5000, 76_000);
      await assert.rejects(t.store.commitEmails(lease, [commitFor('c6', 4, 76_001), commitFor('c6', 5, 76_001)]), (error) =>
        isPostroomError(error, 'LEASE_LOST'),
      );
      assert.equal((await t.store.findLedgerEntries('c6', ['imap:INBOX:1:4', 'imap:INBOX:1:5'])).size, 0, 'nothing of the refused group is kept');
      assert.deepEqual(await t.store.getCursor('c6'), { uidValidity: '1', lastUid: 3 });
    });

    it('claims due messages once, dead-letters failures and replays them', async () => {
      const lease = (await t.store.acquireLease('c3', 'w', 5000, 40_000))!;
      await t.store.commitEmail(lease, commitFor('c3', 1, 40_000, 1));
      const first = await t.store.claimDue(40_001, 100, 'w', 1000);
      const mine = first.filter((m) => m.connection === 'c3');
      assert.equal(mine.length, 1);
      assert.equal((await t.store.claimDue(40_002, 100, 'w2', 1000)).filter((m) => m.connection === 'c3').length, 0, 'a claimed message is not claimed again');
      await t.store.markFailed({ id: mine[0]!.id, error: 'HTTP 400', nextAttemptAt: null, dead: true, now: 40_003 });
      const dead = await t.store.listDeadLetters({ connection: 'c3' });
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.attempts, 1);
      assert.equal(dead[0]!.lastError, 'HTTP 400');
      assert.equal(await t.store.replayDeadLetters([dead[0]!.id], 50_000), 1);
      const again = (await t.store.claimDue(50_001, 100, 'w', 1000)).filter((m) => m.connection === 'c3');
      assert.equal(again.length, 1);
      await t.store.markDelivered([again[0]!.id], 50_002);
      assert.equal((await t.store.listDeadLetters({ connection: 'c3' })).length, 0);
    });

    it('forgets delivered messages older than the cut-off, and only those', async () => {
      const lease = (await t.store.acquireLease('c7', 'w', 5000, 70_000))!;
      await t.store.commitEmails(lease, [commitFor('c7', 1, 70_000, 3), commitFor('c7', 2, 70_000, 1)]);
      const [old1, old2, pending, recent] = [0, 1, 2]
        .map((i) => pipelineMessageId('c7', 'imap:INBOX:1:1', i))
        .concat(pipelineMessageId('c7', 'imap:INBOX:1:2', 0));
      await t.store.markDelivered([old1!, old2!], 71_000);
      await t.store.markDelivered([recent!], 80_000);

      await t.store.forgetDelivered(70_000, 1000); // what earlier tests delivered
      assert.equal(await t.store.forgetDelivered(75_000, 1), 1, 'no more than the limit at once');
      assert.equal(await t.store.forgetDelivered(75_000, 1000), 1);
      assert.equal(await t.store.getOutboxMessage(old1!), undefined);
      assert.equal(await t.store.getOutboxMessage(old2!), undefined);
      assert.equal((await t.store.getOutboxMessage(pending!))?.state, 'pending', 'an undelivered message is never forgotten');
      assert.equal((await t.store.getOutboxMessage(recent!))?.state, 'delivered', 'a recent delivery is kept');
      assert.equal(await t.store.outboxDepth('c7'), 1);
    });

    it("keeps a delivered message's content until its time, reopens it for a replay only then, and forgets the row after", async () => {
      const lease = (await t.store.acquireLease('c7k', 'w', 5000, 70_000))!;
      await t.store.commitEmails(lease, [commitFor('c7k', 1, 70_000, 2)]);
      const [kept, removed] = [0, 1].map((i) => pipelineMessageId('c7k', 'imap:INBOX:1:1', i));
      await t.store.markDelivered([kept!], 71_000, undefined, 81_000);
      await t.store.markDelivered([removed!], 71_000);
      assert.equal((await t.store.getOutboxMessage(kept!))?.contentUntil, 81_000);
      assert.equal((await t.store.getOutboxMessage(removed!))?.contentUntil, null);

      assert.deepEqual(await t.store.reopenDelivered([kept!, removed!], 75_000), [kept], 'only the one whose content is kept');
      const reopened = (await t.store.getOutboxMessage(kept!))!;
      assert.deepEqual([reopened.state, reopened.attempts, reopened.nextAttemptAt, reopened.deliveredAt], ['pending', 0, 75_000, null]);
      assert.deepEqual(await t.store.expireDeliveredContent(90_000, 100), [], 'a message being replayed keeps its content');
      await t.store.markDelivered([kept!], 76_000, undefined, 86_000);

      await t.store.forgetDelivered(100_000, 1000);
      assert.equal(await t.store.getOutboxMessage(removed!), undefined, 'the row whose content is gone is forgotten');
      assert.equal((await t.store.getOutboxMessage(kept!))?.state, 'delivered', 'the row with kept content waits for its content to go');
      assert.deepEqual(await t.store.expireDeliveredContent(85_000, 100), [], 'not yet');
      assert.deepEqual(await t.store.expireDeliveredContent(90_000, 100), [`cd/${'1'.repeat(36)}`]);
      assert.equal((await t.store.getOutboxMessage(kept!))?.contentUntil, null);
      assert.deepEqual(await t.store.reopenDelivered([kept!], 90_000), [], 'its content is gone');
      assert.equal(await t.store.forgetDelivered(100_000, 1000), 1);
      assert.equal(await t.store.getOutboxMessage(kept!), undefined);
    });

    it('keeps content byte-exact, streamed in and out, and forgets it on remove', async () => {
      const bytes = randomBytes(3 * 1024 * 1024 + 12_345);
      const written = await t.content.write(Readable.from([bytes.subarray(0, 700_000), bytes.subarray(700_000)]));
      assert.equal(written.size, bytes.length);
      assert.equal(written.sha256, createHash('sha256').update(bytes).digest('hex'));
      const read: Buffer[] = [];
      for await (const chunk of t.content.open(written.ref)) read.push(chunk as Buffer);
      assert.ok(Buffer.concat(read).equals(bytes), 'the same bytes come back');
      await t.content.remove(written.ref);
      const after = await new Promise<number>((resolve) => {
        let size = 0;
        t.content
          .open(written.ref)
          .on('data', (chunk: Buffer) => (size += chunk.length))
          .on('end', () => resolve(size))
          .on('error', () => resolve(-1));
      });
      assert.ok(after <= 0, 'removed content is gone');
    });

    it('shares throttle state and poll history', async () => {
      await t.store.setThrottle({ account: 'imap:u@h', until: 99_000, reason: 'NO [LIMIT]', since: 90_000, consecutive: 1 });
      assert.equal((await t.store.getThrottle('imap:u@h'))?.until, 99_000);
      await t.store.recordPoll({ connection: 'c4', holder: 'w', startedAt: 1, finishedAt: 2, ok: false, emails: 0, messages: 0, error: 'refused' }, 60_002);
      await t.store.recordPoll({ connection: 'c4', holder: 'w', startedAt: 3, finishedAt: 4, ok: true, emails: 2, messages: 5, error: null }, 120_004);
      const state = await t.store.getConnectionState('c4');
      assert.equal(state?.consecutiveFailures, 0);
      assert.equal(state?.emailsTotal, 2);
      assert.equal(state?.lastPoll?.ok, true);
      await t.store.clearThrottle('imap:u@h');
      assert.equal(await t.store.getThrottle('imap:u@h'), undefined);
    });

    it('counts requests per account in time buckets that every worker adds to, and forgets old ones', async () => {
      const account = 'graph:graph.microsoft.com:app:box@contoso.com';
      // Two workers count into the same minute; the next minute is a bucket of its own.
      await Promise.all([t.store.countRequests(account, 10, 600_010, 60_000), t.store.countRequests(account, 7, 659_999, 60_000)]);
      await t.store.countRequests(account, 3, 660_000, 60_000);
      await t.store.countRequests('graph:other', 99, 600_000, 60_000);
      assert.deepEqual(await t.store.requestBuckets(account, 0), [
        { at: 600_000, requests: 17 },
        { at: 660_000, requests: 3 },
      ]);
      assert.deepEqual(await t.store.requestBuckets(account, 600_001), [{ at: 660_000, requests: 3 }]);
      await t.store.countRequests(account, 1, 600_000 + 60 * 60_000, 60_000);
      assert.deepEqual(
        (await t.store.requestBuckets(account, 0)).map((bucket) => bucket.at),
        [600_000 + 60 * 60_000],
        'buckets long out of any window are deleted',
      );
    });

    it('keeps the backlog a listing saw and counts emails emitted since a time', async () => {
      await t.store.recordBacklog('c5', 1234, 50_000);
      await t.store.recordPoll({ connection: 'c5', holder: 'w', startedAt: 50_001, finishedAt: 50_002, ok: true, emails: 0, messages: 0, error: null }, 60_000);
      const state = await t.store.getConnectionState('c5');
      assert.equal(state?.backlog, 1234, 'a poll record leaves the backlog as it was');
      assert.equal(state?.backlogAt, 50_000);
      const lease = (await t.store.acquireLease('c5', 'w', 1_000_000, 1_000))!;
      await t.store.commitEmails(lease, [commitFor('c5', 1, 70_000, 1), commitFor('c5', 2, 80_000, 1), commitFor('c5', 3, 90_000, 1)]);
      assert.equal((await t.store.emailsSince(75_000)).get('c5'), 2);
    });
  });
}
