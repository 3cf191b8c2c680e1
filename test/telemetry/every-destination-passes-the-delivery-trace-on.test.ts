/**
 * When Postroom is traced, each destination passes the delivery span's W3C trace context on, in
 * its own protocol's place: the `traceparent` header of a webhook, a RabbitMQ message and a NATS
 * message, the `traceparent` field of a Redis stream entry, and in the CloudEvents formats the
 * `traceparent` extension attribute (ce-traceparent, cloudEvents:traceparent, or in the JSON).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { connect as amqpConnect } from 'amqplib';
import { type CloudEvent, HTTP } from 'cloudevents';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import { configSchema } from '../../src/config/schema.ts';
import { startTracing, type Telemetry } from '../../src/service/telemetry.ts';
import { makeDestination, type Outbox, outbox, uniqueName } from '../delivery/delivery-kit.ts';
import { startReceiver, type WebhookReceiver } from '../delivery/webhook-receiver.ts';

const RABBITMQ_URL = process.env.POSTROOM_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_SERVER = process.env.POSTROOM_TEST_NATS ?? 'nats://127.0.0.1:4222';
const REDIS_URL = 'redis://127.0.0.1:6379';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let box: Outbox;
let receiver: WebhookReceiver;

before(async () => {
  telemetry = await startTracing(configSchema.parse({}), { exporter, simple: true });
  box = await outbox();
  receiver = await startReceiver();
});
after(async () => {
  await box?.dispose();
  await receiver?.close();
  await telemetry?.shutdown();
});

/** The traceparent of the delivery span that sent message `id`. */
function traceparentOf(id: string): string {
  const span = exporter.getFinishedSpans().find((s) => s.name === 'postroom.deliver' && s.attributes['postroom.message_id'] === id);
  assert.ok(span, `a delivery span for ${id}`);
  return `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
}

it('webhook: the traceparent header, and the CloudEvents extension in both modes', async () => {
  for (const format of ['raw', 'cloudevents', 'cloudevents-structured'] as const) {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, format });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from(`traced ${format}`) }]);
    assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await hook.close();
    const request = receiver.requests.find((r) => r.headers['webhook-id'] === envelope!.id)!;
    const expected = traceparentOf(envelope!.id);
    assert.equal(request.headers.traceparent, expected, `${format}: traceparent header`);
    if (format !== 'raw') {
      const event = HTTP.toEvent({
        headers: request.headers,
        body: format === 'cloudevents' ? request.body : request.body.toString('utf8'),
      }) as CloudEvent<unknown>;
      assert.equal(event.traceparent, expected, `${format}: the traceparent extension`);
    }
  }
});

it('RabbitMQ: the traceparent header, and cloudEvents:traceparent', async () => {
  const broker = await amqpConnect(RABBITMQ_URL);
  const channel = await broker.createChannel();
  const queue = uniqueName('postroom-test-trace-');
  await channel.assertQueue(queue, { durable: true });
  try {
    const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, queue, format: 'cloudevents' });
    const [envelope] = await box.enqueue('rabbit', [{ content: Buffer.from('traced amqp') }]);
    assert.deepEqual(await box.loop({ rabbit }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await rabbit.close();
    const got = await channel.get(queue, { noAck: true });
    assert.ok(got);
    const expected = traceparentOf(envelope!.id);
    assert.equal(got.properties.headers?.traceparent, expected);
    assert.equal(got.properties.headers?.['cloudEvents:traceparent'], expected);
  } finally {
    await channel.deleteQueue(queue).catch(() => {});
    await broker.close();
  }
});

it('NATS: the traceparent header, and ce-traceparent', async () => {
  const nc = await natsConnect({ servers: NATS_SERVER });
  const jsm = await nc.jetstreamManager();
  const stream = uniqueName('POSTROOM_TEST_TRACE_');
  try {
    const nats = makeDestination('nats', {
      type: 'nats',
      servers: NATS_SERVER,
      subject: `${uniqueName('postroom.test.trace.')}.{kind}`,
      stream,
      createStream: true,
      format: 'cloudevents',
    });
    const [envelope] = await box.enqueue('nats', [{ content: Buffer.from('traced nats') }]);
    assert.deepEqual(await box.loop({ nats }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await nats.close();
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    const expected = traceparentOf(envelope!.id);
    assert.equal(stored.header.get('traceparent'), expected);
    assert.equal(stored.header.get('ce-traceparent'), expected);
  } finally {
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  }
});

it('Redis: the traceparent field of the entry', async () => {
  const redis = new Redis(REDIS_URL);
  const stream = `${uniqueName('postroom-test-trace-')}:emails`;
  try {
    const streams = makeDestination('streams', { type: 'redis', url: REDIS_URL, stream });
    const [envelope] = await box.enqueue('streams', [{ content: Buffer.from('traced redis') }]);
    assert.deepEqual(await box.loop({ streams }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await streams.close();
    const [entry] = (await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    const fields = entry?.[1] ?? [];
    assert.equal(fields[fields.indexOf('traceparent') + 1], traceparentOf(envelope!.id));
  } finally {
    const keys = await redis.keys(`${stream}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
});
