/**
 * The email trail in the store, on both backends: an email's sender, subject, date and size,
 * how it was acknowledged, each delivery attempt (failures, the destination's reply, a replay),
 * found by Message-ID, sender, subject words, date and state; forgotten with its outbox row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import type { EmailCommit, TrailPosition } from '../../src/store/store.ts';
import { STORE_BACKENDS, type TestStore } from '../support/stores.ts';

const T0 = Date.UTC(2026, 10, 17, 9, 0, 0);

function email(connection: string, uid: number, summary: { from: string; subject: string }, parts = 1): EmailCommit {
  const sourceKey = `imap:INBOX:1:${uid}`;
  const messageId = `<${uid}.${connection}@supplier.example>`;
  return {
    summary: { ...summary, sentAt: T0 - 60_000, size: 1234 + uid },
    connection,
    sourceKey,
    key: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
    fingerprint: null,
    messageId,
    rawSha256: `sha-${connection}-${uid}`,
    rawRef: `ab/${String(uid).padStart(36, '0')}`,
    messages: Array.from({ length: parts }, (_, partIndex) => {
      const envelope: Envelope = {
        id: pipelineMessageId(connection, sourceKey, partIndex),
        connection,
        kind: partIndex === 0 ? 'body' : 'attachment',
        filename: partIndex === 0 ? 'body.txt' : `invoice-${uid}.pdf`,
        contentType: partIndex === 0 ? 'text/plain' : 'application/pdf',
        size: 10,
        sha256: 'x',
        partIndex,
        source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid },
        email: { messageId, from: summary.from, to: [], cc: [], subject: summary.subject, date: null },
        receivedAt: new Date(T0).toISOString(),
      };
      return { envelope, destination: partIndex === 0 ? 'bodies' : 'pdfs', contentRef: `cd/${String(uid * 10 + partIndex).padStart(36, '0')}` };
    }),
    now: T0 + uid * 1000,
  };
}

for (const backend of STORE_BACKENDS) {
  describe(`the email trail on ${backend.name}`, () => {
    let t: TestStore;
    before(async () => {
      t = await backend.open();
      const { store } = t;
      const lease = (await store.acquireLease('invoices', 'w', 600_000, T0))!;
      await store.commitEmails(lease, [
        email('invoices', 1, { from: 'Billing <billing@supplier.example>', subject: 'Invoice 4711 for November' }, 2),
        email('invoices', 2, { from: 'news@shop.example', subject: 'Our November deals: 100% off' }),
        email('invoices', 3, { from: 'billing@supplier.example', subject: 'Invoice 4712' }),
        {
          ...email('invoices', 4, { from: 'mailer-daemon@mx.example', subject: 'Undelivered Mail' }),
          messages: [],
          filtered: { condition: 'bounces', reason: 'a delivery-status report' },
        },
      ]);
      await store.markAcknowledged(lease, 'invoices', ['imap:INBOX:1:1'], T0 + 10_000, 'moved to Processed');
      await store.markAcknowledged(lease, 'invoices', ['imap:INBOX:1:2', 'imap:INBOX:1:3'], T0 + 10_000);
      const [body1, pdf1] = [0, 1].map((i) => pipelineMessageId('invoices', 'imap:INBOX:1:1', i));
      // Email 1: its PDF fails twice, then goes through; its body goes through at once.
      await store.markFailed({ id: pdf1!, error: 'https://erp.example/hook answered 503', nextAttemptAt: T0 + 20_000, dead: false, now: T0 + 11_000 });
      await store.markFailed({ id: pdf1!, error: 'https://erp.example/hook answered 503', nextAttemptAt: T0 + 30_000, dead: false, now: T0 + 21_000 });
      await store.markDelivered([body1!, pdf1!], T0 + 31_000, new Map([[pdf1!, 'https://erp.example/hook answered 202']]));
      // Email 2 is a dead letter, replayed by the API; email 3 waits for its retry.
      const news = pipelineMessageId('invoices', 'imap:INBOX:1:2', 0);
      await store.markFailed({ id: news, error: 'HTTP 400: no such product', nextAttemptAt: null, dead: true, now: T0 + 12_000 });
      await store.recordReplay([news], T0 + 40_000, 'the API');
      await store.markFailed({
        id: pipelineMessageId('invoices', 'imap:INBOX:1:3', 0),
        error: 'connection refused',
        nextAttemptAt: T0 + 99_000,
        dead: false,
        now: T0 + 13_000,
      });
    });
    after(async () => t?.dispose());

    it('shows one email whole: what it was, how it was acknowledged, and every attempt in order with the reply', async () => {
      const trail = await t.store.emailTrail('invoices', 'imap:INBOX:1:1');
      assert.ok(trail);
      assert.equal(trail.email.from, 'Billing <billing@supplier.example>');
      assert.equal(trail.email.subject, 'Invoice 4711 for November');
      assert.equal(trail.email.sentAt, T0 - 60_000);
      assert.equal(trail.email.size, 1235);
      assert.equal(trail.email.pickedUpAt, T0 + 1000);
      assert.equal(trail.email.acknowledgement, 'moved to Processed');
      assert.equal(trail.email.state, 'delivered');
      assert.deepEqual(
        trail.messages.map((m) => [m.envelope.filename, m.destination, m.state]),
        [
          ['body.txt', 'bodies', 'delivered'],
          ['invoice-1.pdf', 'pdfs', 'delivered'],
        ],
      );
      const pdf = pipelineMessageId('invoices', 'imap:INBOX:1:1', 1);
      assert.deepEqual(
        trail.attempts.filter((a) => a.outboxId === pdf).map((a) => [a.at - T0, a.outcome, a.detail]),
        [
          [11_000, 'failed', 'https://erp.example/hook answered 503'],
          [21_000, 'failed', 'https://erp.example/hook answered 503'],
          [31_000, 'delivered', 'https://erp.example/hook answered 202'],
        ],
      );
      assert.equal(trail.attempts.filter((a) => a.destination === 'bodies').length, 1);
    });

    it('records a replay and who asked for it', async () => {
      const trail = await t.store.emailTrail('invoices', 'imap:INBOX:1:2');
      assert.equal(trail?.email.state, 'dead');
      assert.deepEqual(
        trail?.attempts.map((a) => [a.outcome, a.detail]),
        [
          ['dead', 'HTTP 400: no such product'],
          ['replayed', 'the API'],
        ],
      );
    });

    it('finds emails by Message-ID, sender, subject words, free text, date and state, newest first', async () => {
      const keys = async (query: Parameters<TestStore['store']['searchEmails']>[0]) =>
        (await t.store.searchEmails(query)).emails.map((e) => e.sourceKey.split(':')[3]);
      assert.deepEqual(await keys({ messageId: '1.invoices@supplier.example' }), ['1'], 'without angle brackets');
      assert.deepEqual(await keys({ messageId: '<3.invoices@supplier.example>' }), ['3']);
      assert.deepEqual(await keys({ from: 'BILLING@supplier' }), ['3', '1'], 'part of the sender, any case');
      assert.deepEqual(await keys({ subject: 'invoice 4711' }), ['1'], 'every word');
      assert.deepEqual(await keys({ text: 'november' }), ['2', '1']);
      assert.deepEqual(await keys({ text: '100%' }), ['2'], "LIKE's own characters match themselves");
      assert.deepEqual(await keys({ text: '10_%' }), []);
      assert.deepEqual(await keys({ since: T0 + 2000, until: T0 + 4000 }), ['3', '2']);
      assert.deepEqual(await keys({ state: 'delivered' }), ['1']);
      assert.deepEqual(await keys({ state: 'dead' }), ['2']);
      assert.deepEqual(await keys({ state: 'retrying' }), ['3']);
      assert.deepEqual(await keys({ state: 'filtered' }), ['4']);
      assert.deepEqual(await keys({ connection: 'elsewhere' }), []);
      assert.deepEqual(await keys({ limit: 2 }), ['4', '3']);
      // A page at a time, each going on after the last one's email: the same emails, in order.
      const paged: string[] = [];
      let after: TrailPosition | undefined;
      for (let round = 0; round < 10; round++) {
        const page = await t.store.searchEmails({ limit: 1, ...(after ? { after } : {}) });
        paged.push(...page.emails.map((e) => e.sourceKey.split(':')[3]!));
        const last = page.emails.at(-1);
        if (!page.more || !last) break;
        after = { pickedUpAt: last.pickedUpAt, connection: last.connection, sourceKey: last.sourceKey };
      }
      assert.deepEqual(paged, ['4', '3', '2', '1']);
      assert.equal((await t.store.searchEmails({ limit: 4 })).more, false, 'no more after the last');
      const [bounce] = (await t.store.searchEmails({ state: 'filtered' })).emails;
      assert.deepEqual(bounce?.filtered, { condition: 'bounces', reason: 'a delivery-status report' });
      assert.equal(bounce?.messages, 0);
    });

    it('forgets the attempts with the delivered outbox rows, and keeps the ledger row', async () => {
      assert.equal(await t.store.forgetDelivered(T0 + 32_000, 100), 2);
      const trail = await t.store.emailTrail('invoices', 'imap:INBOX:1:1');
      assert.equal(trail?.email.subject, 'Invoice 4711 for November');
      assert.equal(trail?.email.state, 'delivered');
      assert.deepEqual(trail?.messages, []);
      assert.deepEqual(trail?.attempts, []);
      assert.equal((await t.store.emailTrail('invoices', 'imap:INBOX:1:2'))?.attempts.length, 2, 'a dead letter keeps its trail');
    });
  });
}
