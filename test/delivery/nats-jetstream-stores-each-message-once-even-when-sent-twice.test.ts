import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import type { Destination } from '../../src/model/destination.ts';
import { binary, makeDestination, type Outbox, outbox, sha256, uniqueName } from './delivery-kit.ts';

const NATS_SERVER = process.env.POSTROOM_TEST_NATS ?? 'nats://127.0.0.1:4222';

describe('NATS JetStream destination', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let box: Outbox;
  const stream = uniqueName('POSTROOM_TEST_');
  const prefix = uniqueName('postroom.test.');
  let nats: Destination;

  before(async () => {
    nc = await connect({ servers: NATS_SERVER });
    jsm = await nc.jetstreamManager();
    box = await outbox();
    nats = makeDestination('nats', { type: 'nats', servers: NATS_SERVER, subject: `${prefix}.{connection}.{kind}`, stream, createStream: true });
  });
  after(async () => {
    await nats?.close();
    await box?.dispose();
    await jsm?.streams.delete(stream).catch(() => {});
    await nc?.close();
  });

  it('publishes each pipeline message with Nats-Msg-Id = its id, waits for the PubAck, and the stream holds it byte-exact', async () => {
    const loop = box.loop({ nats });
    const sent = await box.enqueue(
      'nats',
      [{ content: Buffer.from('Grüße\r\n') }, { content: binary(200_000, 'nats'), filename: 'scan.tif', contentType: 'image/tiff' }],
      'orders.eu',
    );
    assert.deepEqual(await loop.drain(), { delivered: 2, retried: 0, dead: 0 });

    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, 2);
    assert.ok(info.config.duplicate_window >= 60 * 60 * 1e9, 'a created stream remembers ids for an hour');
    for (let seq = 1; seq <= 2; seq++) {
      const stored = await jsm.streams.getMessage(stream, { seq });
      const envelope = sent.find((e) => e.id === stored.header.get('Nats-Msg-Id'));
      assert.ok(envelope, `message ${seq} carries Nats-Msg-Id = a pipeline message id`);
      assert.equal(sha256(Buffer.from(stored.data)), envelope.sha256, `${envelope.filename} is byte-exact`);
      assert.equal(stored.subject, `${prefix}.orders_eu.${envelope.kind}`, 'placeholders filled; the dot in the connection name does not split the token');
      assert.equal(stored.header.get('Content-Type'), envelope.contentType);
      assert.deepEqual(JSON.parse(Buffer.from(stored.header.get('Postroom-Envelope'), 'base64url').toString('utf8')), envelope);
    }
  });

  it('drops a redelivered duplicate: the same pipeline message published twice is stored once', async () => {
    const before = (await jsm.streams.info(stream)).state.messages;
    const [envelope] = await box.enqueue('nats', [{ content: Buffer.from('only once, please') }]);
    const message = { envelope: envelope!, openContent: () => Readable.from([Buffer.from('only once, please')]) };
    await nats.deliver(message);
    await nats.deliver(message);
    const info = await jsm.streams.info(stream);
    assert.equal(info.state.messages, before + 1, 'one message in the stream');
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: `${prefix}.inbox.body` });
    assert.equal(stored.header.get('Nats-Msg-Id'), envelope!.id);
    await box.opened.store.markDelivered([envelope!.id], box.clock.now());
  });

  it('refuses for good a message over maxMessageBytes', async () => {
    const small = makeDestination('small', { type: 'nats', servers: NATS_SERVER, subject: `${prefix}.{connection}.{kind}`, maxMessageBytes: 100 });
    const loop = box.loop({ small });
    const [envelope] = await box.enqueue('small', [{ content: binary(101, 'big') }]);
    assert.deepEqual(await loop.drain(), { delivered: 0, retried: 0, dead: 1 });
    assert.match((await box.opened.store.getOutboxMessage(envelope!.id))?.lastError ?? '', /for good: .* is 101 bytes, over the 100-byte limit/);
    await small.close();
  });

  it('retries when no stream takes the subject', async () => {
    const lost = makeDestination('lost', { type: 'nats', servers: NATS_SERVER, subject: `${uniqueName('postroom.nowhere.')}.{kind}`, timeout: '2s' });
    const loop = box.loop({ lost });
    const [envelope] = await box.enqueue('lost', [{ content: Buffer.from('x') }]);
    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 1, dead: 0 });
    assert.match((await box.opened.store.getOutboxMessage(envelope!.id))?.lastError ?? '', /no stream takes subject/);
    await lost.close();
  });
});
