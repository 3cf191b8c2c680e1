import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEAD_LETTER_SCHEDULE, makeDestination, type Outbox, outbox, sha256 } from './delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

describe('a webhook that refuses a message with 400', () => {
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

  it('sends it to the dead letters at once; once the receiver is fixed, a replay delivers it exactly once', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url });
    const loop = box.loop({ hook });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from('an order the receiver cannot read yet\r\n') }]);
    receiver.otherwise({ status: 400, body: '{"error":"unknown field kind"}' });

    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 0, dead: 1 }, 'no quick retries for a 400');
    const [dead, ...others] = await box.opened.store.listDeadLetters();
    assert.equal(others.length, 0);
    assert.equal(dead?.id, envelope!.id);
    assert.equal(dead?.attempts, 1);
    assert.match(dead?.lastError ?? '', /rejected the pipeline message for good.*answered 400: \{"error":"unknown field kind"\}/);
    assert.equal(dead?.nextAttemptAt, box.clock.now() + DEAD_LETTER_SCHEDULE[0]!, 'kept for catastrophic retry on the schedule, never dropped');

    box.clock.advance(10_000);
    assert.deepEqual(await loop.drain(), { delivered: 0, retried: 0, dead: 0 }, 'nothing happens before the schedule or a replay');

    receiver.otherwise({ status: 204 });
    assert.equal(await box.opened.store.replayDeadLetters([envelope!.id], box.clock.now()), 1);
    assert.deepEqual(await loop.drain(), { delivered: 1, retried: 0, dead: 0 });
    box.clock.advance(DEAD_LETTER_SCHEDULE.reduce((a, b) => a + b));
    assert.equal(await box.opened.store.replayDeadLetters('all', box.clock.now()), 0, 'no dead letter left');
    assert.deepEqual(await loop.drain(), { delivered: 0, retried: 0, dead: 0 });

    const accepted = receiver.requests.filter((r) => r.reply !== 'hang' && r.reply.status === 204);
    assert.equal(receiver.requests.length, 2, 'one refused attempt, one replay');
    assert.equal(accepted.length, 1, 'delivered exactly once');
    assert.equal(accepted[0]!.headers['idempotency-key'], envelope!.id);
    assert.equal(sha256(accepted[0]!.body), envelope!.sha256);
    assert.equal((await box.opened.store.getOutboxMessage(envelope!.id))?.state, 'delivered');
  });

  it('treats 408 and 429 as worth retrying, and a redirect as a refusal', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url });
    const loop = box.loop({ hook });
    receiver.otherwise({ status: 200 });
    const [timeout] = await box.enqueue('hook', [{ content: Buffer.from('a') }]);
    receiver.script({ status: 408 });
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 1, dead: 0 });
    assert.equal((await box.opened.store.getOutboxMessage(timeout!.id))?.state, 'pending');

    box.clock.advance(5_000);
    await loop.drain();
    const [moved] = await box.opened.store.listDeadLetters();
    assert.equal(moved, undefined, 'the 408 message was then delivered');
    const [redirected] = await box.enqueue('hook', [{ content: Buffer.from('b') }]);
    receiver.script({ status: 301, headers: { Location: 'https://elsewhere.example/hook' } });
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 0, dead: 1 });
    const dead = await box.opened.store.getOutboxMessage(redirected!.id);
    assert.match(dead?.lastError ?? '', /answered 301.*redirects are not followed.*https:\/\/elsewhere\.example/);
  });
});
