/**
 * The dead letters as the Dead letters page and `postroom dead-letters` read them, the same on
 * both backends: filtered by connection and destination, counted, paged with those of one email
 * side by side; and discarded by hand: out of the dead letters and the counts, a `discarded`
 * attempt in the trail with who did it, never one a worker is delivering, the raw email
 * releasable once nothing else needs it, and the row forgotten after keepDelivered like a
 * delivered one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import type { EmailCommit } from '../../src/store/store.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const sourceKey = (uid: number) => `imap:INBOX:1:${uid}`;

/** An email with one pipeline message per destination given. */
function commitFor(connection: string, uid: number, now: number, destinations: string[]): EmailCommit {
  const envelope = (partIndex: number): Envelope => ({
    id: pipelineMessageId(connection, sourceKey(uid), partIndex),
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
    sourceKey: sourceKey(uid),
    key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    fingerprint: null,
    messageId: `<${uid}@x>`,
    rawSha256: `sha-${connection}-${uid}`,
    rawRef: `raw-${connection}-${uid}`,
    messages: destinations.map((destination, i) => ({ envelope: envelope(i), destination, contentRef: `part-${connection}-${uid}-${i}` })),
    now,
  };
}

const id = (connection: string, uid: number, part: number) => pipelineMessageId(connection, sourceKey(uid), part);

for (const backend of STORE_BACKENDS) {
  describe(`the ${backend.name} store's dead letters`, () => {
    let t: TestStore;
    before(async () => {
      t = await backend.open();
      // shop: emails 1-3 (hook + files each, committed oldest first); archive: email 1 (hook).
      const shop = (await t.store.acquireLease('shop', 'w', 60_000, 1_000))!;
      for (const uid of [1, 2, 3]) await t.store.commitEmail(shop, commitFor('shop', uid, 1_000 + uid, ['hook', 'files']));
      await t.store.markAcknowledged(shop, 'shop', [1, 2, 3].map(sourceKey), 2_000, 'marked read');
      const archive = (await t.store.acquireLease('archive', 'w', 60_000, 1_000))!;
      await t.store.commitEmail(archive, commitFor('archive', 1, 1_002, ['hook']));
      await t.store.markAcknowledged(archive, 'archive', [sourceKey(1)], 2_000, 'marked read');
      for (const message of [id('shop', 1, 0), id('shop', 1, 1), id('shop', 2, 0), id('shop', 2, 1), id('shop', 3, 0), id('archive', 1, 0)])
        await t.store.markFailed({ id: message, error: 'answered 400', nextAttemptAt: 60_000, dead: true, now: 3_000 });
      // shop 3's files part was delivered: only its hook part is a dead letter.
      await t.store.markDelivered([id('shop', 3, 1)], 3_000);
    });
    after(async () => {
      await t?.dispose();
    });

    it('filters by connection and destination, counts, and pages with an email’s dead letters side by side', async () => {
      assert.equal(await t.store.countDeadLetters(), 6);
      assert.equal(await t.store.countDeadLetters({ connection: 'shop' }), 5);
      assert.equal(await t.store.countDeadLetters({ destination: 'hook' }), 4);
      assert.equal(await t.store.countDeadLetters({ connection: 'shop', destination: 'files' }), 2);
      const all = (await t.store.listDeadLetters()).map((m) => m.sourceKey);
      // Oldest email first; shop 1 (1_001) before archive 1 (1_002), the parts of each together.
      assert.deepEqual(all, [sourceKey(1), sourceKey(1), sourceKey(1), sourceKey(2), sourceKey(2), sourceKey(3)]);
      assert.deepEqual(
        (await t.store.listDeadLetters()).map((m) => m.connection),
        ['shop', 'shop', 'archive', 'shop', 'shop', 'shop'],
      );
      const pages = [0, 2, 4].map((offset) => t.store.listDeadLetters({ connection: 'shop', limit: 2, offset }));
      const paged = (await Promise.all(pages)).map((page) => page.map((m) => m.id));
      assert.deepEqual(paged.flat().sort(), [id('shop', 1, 0), id('shop', 1, 1), id('shop', 2, 0), id('shop', 2, 1), id('shop', 3, 0)].sort());
      assert.deepEqual(paged[2], [id('shop', 3, 0)], 'the last page holds what is left');
      assert.deepEqual(
        (await t.store.listDeadLetters({ connection: 'shop', sourceKey: sourceKey(2) })).map((m) => m.id).sort(),
        [id('shop', 2, 0), id('shop', 2, 1)].sort(),
        "one email's",
      );
    });

    it('discards by hand: out of the dead letters, into the trail with who did it, never one being delivered', async () => {
      assert.deepEqual(
        (await t.store.claimIds([id('shop', 2, 1)], 4_000, 'replayer', 60_000)).map((m) => m.id),
        [id('shop', 2, 1)],
      );
      const discarded = await t.store.discardDeadLetters([id('shop', 2, 0), id('shop', 2, 1), id('shop', 3, 1), 'nope'], 5_000, 'the API');
      assert.deepEqual(
        discarded.map((m) => [m.id, m.state, m.contentRef]),
        [[id('shop', 2, 0), 'discarded', 'part-shop-2-0']],
        'not the one a replay holds, not a delivered one, not an unknown id',
      );
      assert.equal(await t.store.countDeadLetters({ connection: 'shop' }), 4);
      const [counts] = (await t.store.outboxCounts()).filter((c) => c.connection === 'shop');
      assert.equal(counts?.dead, 4, 'the status board and postroom_dead_letters count one fewer');
      assert.ok(!(await t.store.deliveryHealth()).some((h) => h.dead === 5));

      const trail = await t.store.emailTrail('shop', sourceKey(2));
      assert.deepEqual(
        trail?.attempts.filter((a) => a.outcome === 'discarded').map((a) => [a.outboxId, a.at, a.detail]),
        [[id('shop', 2, 0), 5_000, 'the API']],
      );
      assert.equal(trail?.messages.find((m) => m.id === id('shop', 2, 0))?.state, 'discarded');
      assert.deepEqual(await t.store.discardDeadLetters([id('shop', 2, 0)], 5_001, 'the CLI'), [], 'discarded once');
    });

    it("releases an email's raw content once every part is delivered or discarded, and forgets discarded rows like delivered ones", async () => {
      assert.deepEqual(await t.store.releasableContent(10), [], 'every email still has a dead letter');
      const discarded = await t.store.discardDeadLetters([id('shop', 3, 0), id('shop', 2, 1)], 65_000, 'the CLI');
      assert.deepEqual(discarded.map((m) => m.id).sort(), [id('shop', 3, 0), id('shop', 2, 1)].sort(), "the replay's claim ran out");
      assert.deepEqual((await t.store.releasableContent(10)).sort(), ['raw-shop-2', 'raw-shop-3'], 'delivered + discarded, discarded + discarded');
      assert.equal((await t.store.findLedger('shop', sourceKey(3)))?.rawRef, null);

      assert.equal(await t.store.forgetDelivered(5_001, 100), 2, 'the delivered one (3_000) and the first discarded (5_000)');
      assert.equal(await t.store.getOutboxMessage(id('shop', 2, 0)), undefined);
      assert.equal((await t.store.getOutboxMessage(id('shop', 3, 0)))?.state, 'discarded', 'kept until keepDelivered has passed');
      assert.equal(await t.store.forgetDelivered(65_001, 100), 2);
      assert.equal(await t.store.countDeadLetters(), 3);
      assert.ok(await t.store.findLedger('shop', sourceKey(3)), 'the ledger row stays');
    });
  });
}
