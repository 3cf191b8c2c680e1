/**
 * Honest delivery state: a pipeline message that keeps failing is one dead letter (counted once
 * in postroom_dead_lettered_total, announced once in the log) however often its scheduled
 * retries fail; a replay says whether it was delivered or failed again (why, and when next).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { PostroomMetrics } from '../../src/api/metrics.ts';
import { QUICK_ATTEMPTS } from '../../src/engine/delivery.ts';
import { metricValue, parsePrometheus } from '../api/prometheus-text.ts';
import { DEAD_LETTER_SCHEDULE, makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

function capturedLog(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('a webhook that is down for good', () => {
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

  it('makes one dead letter, counted and logged once however often its retries fail; a replay says what happened', async () => {
    receiver.otherwise({ status: 503, body: 'maintenance until tonight' });
    const metrics = new PostroomMetrics({ processMetrics: false });
    const { log, lines } = capturedLog();
    const loop = box.loop({ hook: makeDestination('hook', { type: 'webhook', url: receiver.url }) }, { log, onOutcome: metrics.onDelivery });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from('invoice 4711\r\n') }], 'orders');
    for (let round = 0; round < QUICK_ATTEMPTS * 2 && (await box.opened.store.outboxDepth()) > 0; round++) {
      await loop.drain();
      box.clock.advance(10_000);
    }
    // Three scheduled retries of the dead letter, each failing again.
    for (const wait of DEAD_LETTER_SCHEDULE.slice(0, 3)) {
      box.clock.advance(wait);
      await loop.drain();
    }
    const dead = await box.opened.store.getOutboxMessage(envelope!.id);
    assert.equal(dead?.state, 'dead');
    assert.equal(dead?.attempts, QUICK_ATTEMPTS + 3);

    const text = parsePrometheus(await metrics.render(box.opened.store, [], box.clock.now()));
    assert.equal(metricValue(text, 'postroom_dead_lettered_total', 'orders'), 1, 'one dead letter, counted once');
    assert.equal(metricValue(text, 'postroom_deliveries_failed_total', 'orders'), QUICK_ATTEMPTS + 3, 'every failed attempt counts as a failure');
    assert.equal(lines.filter((line) => String(line.msg).includes('moved to dead letters')).length, 1, 'announced once');
    assert.equal(lines.filter((line) => String(line.msg).startsWith('dead letter retry failed')).length, 3);
    const rounds = lines.filter((line) => String(line.msg).startsWith('delivery round'));
    assert.ok(rounds.length >= QUICK_ATTEMPTS, 'each round that did something says so');
    assert.ok(
      rounds.every((line) => line.lane === 'hook'),
      'named by its destination',
    );
    const before = lines.length;
    await loop.drain();
    assert.equal(lines.length, before, 'a round with nothing due is quiet');

    // Replay while the webhook is still down: it says so, with the reason and the next attempt.
    const [failed] = await loop.replay([envelope!.id]);
    assert.equal(failed?.outcome, 'failed');
    assert.match(failed?.error ?? '', /503.*maintenance until tonight/);
    assert.ok(failed?.nextAttemptAt && failed.nextAttemptAt > box.clock.now(), 'the next scheduled attempt is given');
    const after = parsePrometheus(await metrics.render(box.opened.store, [], box.clock.now()));
    assert.equal(metricValue(after, 'postroom_dead_lettered_total', 'orders'), 1, 'a failed replay is no new dead letter');

    // The health the status board shows: failing, with the last error.
    const [health] = await box.opened.store.deliveryHealth();
    assert.deepEqual(
      { connection: health?.connection, destination: health?.destination, dead: health?.dead, retrying: health?.retrying },
      { connection: 'orders', destination: 'hook', dead: 1, retrying: 0 },
    );
    assert.match(health?.lastError ?? '', /503/);

    receiver.otherwise({ status: 204 });
    const [delivered] = await loop.replay([envelope!.id]);
    assert.deepEqual({ outcome: delivered?.outcome, error: delivered?.error }, { outcome: 'delivered', error: null });
    assert.deepEqual(await box.opened.store.deliveryHealth(), [], 'nothing failing any more');
    assert.equal(receiver.requests.filter((r) => r.reply !== 'hang' && r.reply.status === 204).length, 1, 'delivered once');
  });
});
