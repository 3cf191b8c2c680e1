import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** Short enough for a test, long enough that loopback never hits it by accident. */
const TIMEOUT_MS = 400;

describe('a webhook that never answers', () => {
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

  it('gives up after the timeout, retries, and delivers once the receiver answers', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, timeout: `${TIMEOUT_MS}ms` });
    const loop = box.loop({ hook });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from('hello, anyone there?') }]);
    receiver.script('hang');

    const started = Date.now();
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 1, dead: 0 });
    const waited = Date.now() - started;
    assert.ok(waited >= TIMEOUT_MS - 50 && waited < 10 * TIMEOUT_MS, `gave up after about the timeout (${waited} ms)`);
    const failed = await box.opened.store.getOutboxMessage(envelope!.id);
    assert.equal(failed?.state, 'pending');
    assert.match(failed?.lastError ?? '', /silent for 400 ms \(timeout\)/);

    box.clock.advance(1_000);
    assert.deepEqual(await loop.deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(
      receiver.requests.map((r) => r.headers['idempotency-key']),
      [envelope!.id, envelope!.id],
      'the retry carries the same Idempotency-Key, so a receiver that did process the first can tell',
    );
  });
});
