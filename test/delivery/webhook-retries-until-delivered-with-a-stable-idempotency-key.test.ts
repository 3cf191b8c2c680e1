import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { binary, makeDestination, type Outbox, outbox, sha256 } from './delivery-kit.ts';
import { envelopeOf, makeSecret, signatureVerifies, startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

const SECRET = makeSecret();

describe('a webhook that fails, then succeeds', () => {
  let receiver: WebhookReceiver;
  let box: Outbox;

  before(async () => {
    receiver = await startReceiver();
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
    await receiver?.close();
  });

  it('retries after 503 and after 429 (honouring Retry-After), then delivers once with the same Idempotency-Key and a valid signature', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, secret: SECRET, headers: { Authorization: 'Bearer receiver-token' } });
    const loop = box.loop({ hook });
    const attachment = binary(300_000, 'webhook attachment');
    const [body, file] = await box.enqueue('hook', [
      { content: Buffer.from('Grüße aus dem Posteingang\r\n') },
      { content: attachment, filename: 'report.pdf', contentType: 'application/pdf' },
    ]);
    // Each message meets the same script: 503, then 429 with Retry-After: 1, then 200.
    receiver.script(
      { status: 503, body: 'down for maintenance' },
      { status: 503 },
      { status: 429, headers: { 'Retry-After': '1' } },
      { status: 429, headers: { 'Retry-After': '1' } },
    );

    const first = await loop.deliverDue();
    assert.deepEqual(first, { delivered: 0, retried: 2, dead: 0 });
    const afterFirst = await box.opened.store.getOutboxMessage(file!.id);
    assert.equal(afterFirst?.nextAttemptAt, box.clock.now() + 1_000, 'first quick retry after 1 s');
    assert.match(afterFirst?.lastError ?? '', /answered 503/);
    assert.doesNotMatch(afterFirst?.lastError ?? '', /url-secret|hooks\/postroom/, 'the error names the origin only, never a token in the URL');

    box.clock.advance(999);
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 0, dead: 0 }, 'nothing is due before its time');
    box.clock.advance(1);
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 2, dead: 0 });
    const afterSecond = await box.opened.store.getOutboxMessage(file!.id);
    assert.equal(afterSecond?.nextAttemptAt, box.clock.now() + 1_000, 'Retry-After: 1 is honoured (the backoff alone would wait 2 s)');
    assert.match(afterSecond?.lastError ?? '', /answered 429/);

    box.clock.advance(1_000);
    assert.deepEqual(await loop.deliverDue(), { delivered: 2, retried: 0, dead: 0 });
    box.clock.advance(60 * 60_000);
    assert.deepEqual(await loop.drain(), { delivered: 0, retried: 0, dead: 0 }, 'a delivered message is never sent again');

    assert.equal(receiver.requests.length, 6, 'three attempts per message');
    for (const envelope of [body!, file!]) {
      const attempts = receiver.requests.filter((r) => r.headers['idempotency-key'] === envelope.id);
      assert.equal(attempts.length, 3, `${envelope.filename}: three attempts, all with Idempotency-Key = its id`);
      assert.deepEqual(
        attempts.map((r) => (r.reply === 'hang' ? 'hang' : r.reply.status)),
        [503, 429, 200],
      );
      for (const attempt of attempts) {
        assert.ok(signatureVerifies(attempt, SECRET), 'the Standard Webhooks signature over "<webhook-id>.<timestamp>.<body>" verifies');
        assert.equal(attempt.headers['webhook-id'], envelope.id, 'webhook-id is the pipeline message id on every attempt');
        assert.equal(sha256(attempt.body), envelope.sha256, 'the body is the content, byte-exact');
        assert.equal(attempt.headers['content-type'], envelope.contentType);
        assert.equal(attempt.headers['content-length'], String(envelope.size));
        assert.equal(attempt.headers.authorization, 'Bearer receiver-token', 'configured headers are sent');
        assert.deepEqual(envelopeOf(attempt), envelope, 'Postroom-Envelope carries the envelope');
      }
      assert.ok(!signatureVerifies({ ...attempts[2]!, body: Buffer.concat([attempts[2]!.body, Buffer.from('x')]) }, SECRET), 'a changed body does not verify');
      const stored = await box.opened.store.getOutboxMessage(envelope.id);
      assert.equal(stored?.state, 'delivered');
      assert.equal(stored?.attempts, 2, 'two failed attempts recorded');
    }
    assert.deepEqual(
      receiver.requests.find((r) => r.headers['idempotency-key'] === file!.id && r.reply !== 'hang' && r.reply.status === 200)?.body,
      attachment,
    );
  });

  it('honours Retry-After given as an HTTP date', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url });
    const loop = box.loop({ hook });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from('later please') }]);
    receiver.script({ status: 503, headers: { 'Retry-After': new Date(Date.now() + 120_000).toUTCString() } });
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 1, dead: 0 });
    const stored = await box.opened.store.getOutboxMessage(envelope!.id);
    const wait = (stored?.nextAttemptAt ?? 0) - box.clock.now();
    assert.ok(wait > 118_000 && wait <= 120_000, `waits until the date (${wait} ms)`);
    assert.equal(receiver.requests.at(-1)?.headers['webhook-signature'], undefined, 'no signature without a secret');
  });
});
