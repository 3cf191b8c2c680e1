import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { type Channel, type ChannelModel, connect } from 'amqplib';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { makeDestination, type Outbox, outbox, uniqueName } from './delivery-kit.ts';

const RABBITMQ_URL = process.env.POSTROOM_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';

describe('RabbitMQ destination when the connection drops', () => {
  let broker: ChannelModel;
  let channel: Channel;
  let proxy: TcpProxy;
  let box: Outbox;
  const queue = uniqueName('postroom-test-');

  before(async () => {
    broker = await connect(RABBITMQ_URL);
    channel = await broker.createChannel();
    await channel.assertQueue(queue, { durable: true });
    const url = new URL(RABBITMQ_URL);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5672) });
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
    await proxy?.close();
    await channel?.deleteQueue(queue).catch(() => {});
    await broker?.close();
  });

  it('reuses one connection, opens a new one after a drop, and loses nothing', async () => {
    const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, queue });
    const loop = box.loop({ rabbit });
    await box.enqueue('rabbit', [{ content: Buffer.from('one') }]);
    await box.enqueue('rabbit', [{ content: Buffer.from('two') }]);
    assert.deepEqual(await loop.drain(), { delivered: 2, retried: 0, dead: 0 });
    assert.equal(proxy.allConnections().length, 1, 'one connection for every delivery');

    proxy.cutAll();
    await delay(100);
    const [three] = await box.enqueue('rabbit', [{ content: Buffer.from('three') }]);
    let delivered = 0;
    for (let round = 0; round < 5 && delivered === 0; round++) {
      delivered = (await loop.drain()).delivered;
      box.clock.advance(10_000);
    }
    assert.equal(delivered, 1, 'delivered after the drop');
    assert.equal(proxy.allConnections().length, 2, 'a new connection was opened');
    await rabbit.close();

    const ids: string[] = [];
    for (let m = await channel.get(queue, { noAck: true }); m; m = await channel.get(queue, { noAck: true })) ids.push(String(m.properties.messageId));
    assert.equal(ids.length, 3);
    assert.equal(ids[2], three!.id);
  });
});
