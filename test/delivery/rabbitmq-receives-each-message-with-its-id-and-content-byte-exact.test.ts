import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Channel, type ChannelModel, connect, type GetMessage } from 'amqplib';
import type { Envelope } from '../../src/model/envelope.ts';
import { binary, makeDestination, type Outbox, outbox, sha256, uniqueName } from './delivery-kit.ts';

const RABBITMQ_URL = process.env.POSTROOM_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

async function drainQueue(channel: Channel, queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true })) messages.push(message);
  return messages;
}

describe('RabbitMQ destination', () => {
  let broker: ChannelModel;
  let channel: Channel;
  let box: Outbox;
  const queues: string[] = [];

  const freshQueue = async (): Promise<string> => {
    const queue = uniqueName('postroom-test-');
    await channel.assertQueue(queue, { durable: true });
    queues.push(queue);
    return queue;
  };

  before(async () => {
    broker = await connect(RABBITMQ_URL);
    channel = await broker.createChannel();
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
    for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
    await broker?.close();
  });

  it('publishes each pipeline message persistent and confirmed, with messageId = its id, the envelope in headers, and the content byte-exact', async () => {
    const queue = await freshQueue();
    const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, queue });
    const loop = box.loop({ rabbit });
    const sent: Envelope[] = [
      ...(await box.enqueue('rabbit', [{ content: Buffer.from('Grüße\r\n') }, { content: binary(2 * 1024 * 1024, 'amqp'), filename: 'Überweisung.bin' }])),
      ...(await box.enqueue('rabbit', [{ content: Buffer.alloc(0), filename: 'empty.txt' }])),
    ];
    assert.deepEqual(await loop.drain(), { delivered: 3, retried: 0, dead: 0 });
    await rabbit.close();

    const received = await drainQueue(channel, queue);
    assert.equal(received.length, 3, 'each message arrives once');
    for (const envelope of sent) {
      const got = received.find((m) => m.properties.messageId === envelope.id);
      assert.ok(got, `message ${envelope.id} arrived with messageId = its id`);
      assert.equal(sha256(got.content), envelope.sha256, `${envelope.filename} is byte-exact`);
      assert.equal(got.content.length, envelope.size);
      assert.equal(got.properties.deliveryMode, 2, 'persistent');
      assert.equal(got.properties.contentType, envelope.contentType);
      assert.equal(got.properties.type, envelope.kind);
      const headers = got.properties.headers ?? {};
      assert.deepEqual(JSON.parse(String(headers['postroom-envelope'])), envelope);
      assert.equal(String(headers['postroom-filename']), envelope.filename);
      assert.equal(headers['postroom-part-index'], envelope.partIndex);
      assert.equal(String(headers['postroom-connection']), 'inbox');
    }
  });

  it('retries a message no queue takes (it comes back, not confirmed into nowhere), and delivers it once a queue is bound', async () => {
    const exchange = uniqueName('postroom-test-x-');
    await channel.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, exchange, routingKey: 'mail.{connection}.{kind}' });
    const loop = box.loop({ rabbit });
    const [envelope] = await box.enqueue('rabbit', [{ content: Buffer.from('routed later') }]);

    assert.deepEqual(await loop.deliverDue(), { delivered: 0, retried: 1, dead: 0 });
    assert.match(
      (await box.opened.store.getOutboxMessage(envelope!.id))?.lastError ?? '',
      /no queue for exchange .* routing key "mail\.inbox\.body": the message was returned/,
    );

    const queue = await freshQueue();
    await channel.bindQueue(queue, exchange, 'mail.inbox.*');
    box.clock.advance(1_000);
    assert.deepEqual(await loop.deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await rabbit.close();
    const received = await drainQueue(channel, queue);
    assert.deepEqual(
      received.map((m) => m.properties.messageId),
      [envelope!.id],
    );
    assert.equal(received[0]!.fields.routingKey, 'mail.inbox.body');
    await channel.deleteExchange(exchange);
  });

  it('refuses for good a message over maxMessageBytes, saying why, and still delivers the small ones', async () => {
    const queue = await freshQueue();
    const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, queue, maxMessageBytes: 1_000 });
    const loop = box.loop({ rabbit });
    const [small, large] = await box.enqueue('rabbit', [{ content: Buffer.from('small') }, { content: binary(1_001, 'too big'), filename: 'big.bin' }]);
    assert.deepEqual(await loop.drain(), { delivered: 1, retried: 0, dead: 1 });
    await rabbit.close();
    const dead = await box.opened.store.getOutboxMessage(large!.id);
    assert.equal(dead?.state, 'dead');
    assert.match(dead?.lastError ?? '', /rejected the pipeline message for good: .*big\.bin\) is 1001 bytes, over maxMessageBytes 1000.*raise maxMessageBytes/);
    assert.deepEqual(
      (await drainQueue(channel, queue)).map((m) => m.properties.messageId),
      [small!.id],
    );
  });
});
