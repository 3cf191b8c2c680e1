/**
 * A reload swaps a destination's object while it delivers: the next delivery goes with the new
 * settings at once, while one already under way finishes with the old (a webhook's close destroys
 * its connections, so closing it then would fail the delivery); the old one is closed after.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../../src/model/clock.ts';
import { waitFor } from '../support/wait-for.ts';
import { makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

describe('a destination swapped while a delivery to it is under way', () => {
  let old: WebhookReceiver;
  let fixed: WebhookReceiver;
  let box: Outbox;

  before(async () => {
    [old, fixed] = await Promise.all([startReceiver(), startReceiver()]);
    box = await outbox({ ...systemClock, advance: () => {} });
  });
  after(async () => {
    old?.release(204);
    await box?.dispose();
    await Promise.all([old?.close(), fixed?.close()]);
  });

  it('lets that delivery finish with the old settings, sends the next with the new, and closes the old one after', async () => {
    const loop = box.loop({ hook: makeDestination('hook', { type: 'webhook', url: old.url, timeout: '60s' }) });
    old.otherwise('hang');
    fixed.otherwise({ status: 204 });
    const [first] = await box.enqueue('hook', [{ content: Buffer.from('taken before the reload\r\n') }]);
    const firstRound = loop.deliverDue();
    await waitFor('the first delivery to hang at the old URL', () => old.hanging() === 1, 10_000);

    let closed = false;
    const swapped = loop.swapDestination('hook', makeDestination('hook', { type: 'webhook', url: fixed.url })).then(() => {
      closed = true;
    });
    const [second] = await box.enqueue('hook', [{ content: Buffer.from('taken after the reload\r\n') }]);
    assert.deepEqual(await loop.deliverDue(), { delivered: 1, retried: 0, dead: 0 }, 'the next delivery uses the new settings');
    await delay(100);
    assert.equal(closed, false, 'the old one stays open while its delivery is under way');

    old.release(204);
    assert.deepEqual(await firstRound, { delivered: 1, retried: 0, dead: 0 }, 'and that delivery succeeds with it');
    await swapped;
    assert.equal(closed, true, 'then the old one is closed');
    assert.deepEqual(
      old.requests.map((r) => r.headers['idempotency-key']),
      [first!.id],
    );
    assert.deepEqual(
      fixed.requests.map((r) => r.headers['idempotency-key']),
      [second!.id],
    );
    for (const envelope of [first!, second!]) assert.equal((await box.opened.store.getOutboxMessage(envelope.id))?.state, 'delivered');
    await assert.rejects(loop.swapDestination('other', makeDestination('other', { type: 'webhook', url: fixed.url })), /no delivery lane.*restart/);
  });
});
