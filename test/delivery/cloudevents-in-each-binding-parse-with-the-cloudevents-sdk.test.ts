/**
 * `format: cloudevents` and `format: cloudevents-structured` on the webhook, RabbitMQ, NATS
 * JetStream, Redis Streams and directory destinations: what each real server receives is read with the CloudEvents SDK for
 * JavaScript (`cloudevents` on npm), validated against the spec, and gives back the pipeline
 * message: its id, type, source, subject, the extension attributes and the content byte-exact.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as amqpConnect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { CloudEvent, HTTP } from 'cloudevents';
import { Redis } from 'ioredis';
import { type JetStreamManager, type NatsConnection, connect as natsConnect } from 'nats';
import { Webhook } from 'standardwebhooks';
import type { Envelope } from '../../src/model/envelope.ts';
import { binary, makeDestination, type Outbox, outbox, sha256, uniqueName } from './delivery-kit.ts';
import { makeSecret, type ReceivedRequest, signatureVerifies, startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

const RABBITMQ_URL = process.env.POSTROOM_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_SERVER = process.env.POSTROOM_TEST_NATS ?? 'nats://127.0.0.1:4222';
const REDIS_URL = 'redis://127.0.0.1:6379';
const FORMATS = ['cloudevents', 'cloudevents-structured'] as const;

/** The parts every binding sends: a text body and a binary attachment with a non-ASCII name. */
function parts() {
  return [
    { content: Buffer.from('Grüße, die Rechnung\r\n') },
    { content: binary(100_000, 'cloudevents'), filename: 'Überweisung März.pdf', contentType: 'application/pdf' },
  ];
}

/** What every binding must give back, read through the SDK. */
function assertEventIsTheMessage(event: CloudEvent<unknown>, envelope: Envelope, data: Buffer): void {
  assert.equal(event.validate(), true, 'a valid CloudEvents 1.0 event');
  assert.equal(event.specversion, '1.0');
  assert.equal(event.id, envelope.id, 'id is the pipeline message id');
  assert.equal(event.type, envelope.kind === 'body' ? 'email.body.received' : 'email.attachment.received');
  assert.equal(event.source, `/postroom/connections/${envelope.connection}`);
  assert.equal(event.time, new Date(envelope.receivedAt).toISOString());
  assert.equal(event.datacontenttype, envelope.contentType);
  assert.equal(String(event.connection), envelope.connection, 'extension: connection');
  assert.equal(Number(event.partindex), envelope.partIndex, 'extension: partindex');
  assert.equal(event.sha256, envelope.sha256, 'extension: sha256');
  assert.equal(event.emailmessageid ?? undefined, envelope.email.messageId ?? undefined, 'extension: emailmessageid');
  assert.equal(sha256(data), envelope.sha256, 'the data is the content, byte-exact');
}

/**
 * The content as the SDK gives it: binary mode hands back the body (a Buffer); structured mode
 * keeps `data_base64` as sent (its decoded `data` is a Uint32Array of one element per byte).
 */
function bytesOf(event: CloudEvent<unknown>): Buffer {
  if (typeof event.data_base64 === 'string') return Buffer.from(event.data_base64, 'base64');
  if (typeof event.data === 'string') return Buffer.from(event.data, 'utf8');
  if (event.data instanceof Uint8Array) return Buffer.from(event.data);
  throw new Error(`unexpected data ${typeof event.data}`);
}

/** HTTP and NATS percent-encode header values (HTTP binding 3.1.3.2); the SDK leaves decoding to us. */
function decoded(value: unknown): string {
  return decodeURIComponent(String(value));
}

describe('CloudEvents', () => {
  let box: Outbox;
  before(async () => {
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
  });

  describe('over HTTP (webhook)', () => {
    let receiver: WebhookReceiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver?.close();
    });

    for (const format of FORMATS) {
      it(`${format}: HTTP.toEvent reads each message`, async () => {
        const secret = makeSecret();
        const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, format, secret });
        const sent = await box.enqueue('hook', parts());
        assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
        await hook.close();
        for (const envelope of sent) {
          const request = receiver.requests.find((r: ReceivedRequest) => r.headers['webhook-id'] === envelope.id)!;
          const body = format === 'cloudevents' ? request.body : request.body.toString('utf8');
          if (format === 'cloudevents-structured') assert.match(String(request.headers['content-type']), /^application\/cloudevents\+json/);
          else assert.equal(request.headers['content-type'], envelope.contentType, "binary mode: the content type is the content's");
          const event = HTTP.toEvent({ headers: request.headers, body }) as CloudEvent<unknown>;
          assertEventIsTheMessage(event, envelope, bytesOf(event));
          assert.equal(format === 'cloudevents' ? decoded(event.subject) : event.subject, envelope.filename, 'subject is the file name');
          assert.equal(request.headers['postroom-envelope'] !== undefined, true, 'the envelope travels beside the event');
          assert.ok(signatureVerifies(request, secret), 'signed in every format');
          if (format === 'cloudevents-structured') {
            // The document is ASCII JSON, so the official Standard Webhooks package verifies it, attachment or not.
            assert.doesNotThrow(() => new Webhook(secret).verify(request.body, request.headers as Record<string, string>));
          }
        }
      });
    }
  });

  describe('over AMQP (RabbitMQ)', () => {
    let broker: ChannelModel;
    let channel: Channel;
    const queues: string[] = [];
    before(async () => {
      broker = await amqpConnect(RABBITMQ_URL);
      channel = await broker.createChannel();
    });
    after(async () => {
      for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
      await broker?.close();
    });

    /** The AMQP binding, binary mode: attributes from the `cloudEvents:` application properties, datacontenttype from content-type. */
    function fromAmqp(message: GetMessage): CloudEvent<unknown> {
      const attributes: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
        if (name.startsWith('cloudEvents:')) attributes[name.slice('cloudEvents:'.length)] = value;
      }
      return new CloudEvent({ ...attributes, datacontenttype: message.properties.contentType, data: message.content });
    }

    for (const format of FORMATS) {
      it(`${format}: the SDK reads each message`, async () => {
        const queue = uniqueName('postroom-test-ce-');
        await channel.assertQueue(queue, { durable: true });
        queues.push(queue);
        const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, queue, format });
        const sent = await box.enqueue('rabbit', parts());
        assert.deepEqual(await box.loop({ rabbit }).drain(), { delivered: 2, retried: 0, dead: 0 });
        await rabbit.close();
        for (let got = await channel.get(queue, { noAck: true }), _n = 0; got; got = await channel.get(queue, { noAck: true }), _n += 1) {
          const envelope = sent.find((e) => e.id === got.properties.messageId)!;
          let event: CloudEvent<unknown>;
          if (format === 'cloudevents') {
            assert.equal(typeof got.properties.headers?.['cloudEvents:partindex'], 'number', 'integer attributes stay integers in AMQP');
            event = fromAmqp(got);
          } else {
            assert.match(String(got.properties.contentType), /^application\/cloudevents\+json/);
            event = HTTP.toEvent({ headers: { 'content-type': got.properties.contentType }, body: got.content.toString('utf8') }) as CloudEvent<unknown>;
          }
          assertEventIsTheMessage(event, envelope, bytesOf(event));
          assert.equal(event.subject, envelope.filename, 'subject is the file name');
        }
      });
    }
  });

  describe('over NATS JetStream', () => {
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    const streams: string[] = [];
    before(async () => {
      nc = await natsConnect({ servers: NATS_SERVER });
      jsm = await nc.jetstreamManager();
    });
    after(async () => {
      for (const stream of streams) await jsm.streams.delete(stream).catch(() => {});
      await nc?.close();
    });

    for (const format of FORMATS) {
      it(`${format}: the SDK reads each message`, async () => {
        const stream = uniqueName('POSTROOM_TEST_CE_');
        streams.push(stream);
        const subject = uniqueName('postroom.test.ce.');
        const nats = makeDestination('nats', { type: 'nats', servers: NATS_SERVER, subject: `${subject}.{kind}`, stream, createStream: true, format });
        const sent = await box.enqueue('nats', parts());
        assert.deepEqual(await box.loop({ nats }).drain(), { delivered: 2, retried: 0, dead: 0 });
        await nats.close();
        for (let seq = 1; seq <= 2; seq++) {
          const stored = await jsm.streams.getMessage(stream, { seq });
          const envelope = sent.find((e) => e.id === stored.header.get('Nats-Msg-Id'))!;
          // The NATS binding's binary mode names and encodes headers as HTTP's does.
          const headers: Record<string, string> = {};
          for (const [name, values] of stored.header) headers[name.toLowerCase()] = values[0]!;
          const data = Buffer.from(stored.data);
          const event = HTTP.toEvent({ headers, body: format === 'cloudevents' ? data : data.toString('utf8') }) as CloudEvent<unknown>;
          assertEventIsTheMessage(event, envelope, bytesOf(event));
          assert.equal(format === 'cloudevents' ? decoded(event.subject) : event.subject, envelope.filename);
        }
      });
    }
  });

  describe('in a Redis stream', () => {
    let redis: Redis;
    const streams: string[] = [];
    before(() => {
      redis = new Redis(REDIS_URL);
    });
    after(async () => {
      for (const stream of streams) {
        const keys = await redis.keys(`${stream}*`);
        if (keys.length) await redis.del(...keys);
      }
      redis?.disconnect();
    });

    for (const format of FORMATS) {
      it(`${format}: the SDK reads each entry, its fields as headers`, async () => {
        const stream = uniqueName('postroom-test-ce-');
        streams.push(stream);
        const destination = makeDestination('redis', { type: 'redis', url: REDIS_URL, stream, format });
        const sent = await box.enqueue('redis', parts());
        assert.deepEqual(await box.loop({ redis: destination }).drain(), { delivered: 2, retried: 0, dead: 0 });
        await destination.close();
        const entries = await redis.xrangeBuffer(stream, '-', '+');
        assert.equal(entries.length, 2);
        for (const [, flat] of entries) {
          const fields = new Map<string, Buffer>();
          for (let at = 0; at < flat.length; at += 2) fields.set(flat[at]!.toString('utf8'), flat[at + 1]!);
          const envelope = sent.find((e) => e.id === fields.get('id')?.toString())!;
          const headers: Record<string, string> = {};
          for (const [name, value] of fields) if (name.startsWith('ce-') || name === 'content-type') headers[name] = value.toString('utf8');
          const content = fields.get('content')!;
          const event = HTTP.toEvent({ headers, body: format === 'cloudevents' ? content : content.toString('utf8') }) as CloudEvent<unknown>;
          assertEventIsTheMessage(event, envelope, bytesOf(event));
          assert.equal(event.subject, envelope.filename, 'subject is the file name, as it is (a Redis field is binary-safe)');
        }
      });
    }
  });

  describe('in a directory', () => {
    for (const format of FORMATS) {
      it(`${format}: <id>.ce.json is a CloudEvent the SDK reads, beside the content`, async () => {
        const dir = await mkdtemp(join(tmpdir(), 'postroom-test-ce-dir-'));
        try {
          const out = makeDestination('out', { type: 'directory', path: dir, format });
          const sent = await box.enqueue('out', parts());
          assert.deepEqual(await box.loop({ out }).drain(), { delivered: 2, retried: 0, dead: 0 });
          for (const envelope of sent) {
            const document = JSON.parse(await readFile(join(dir, `${envelope.id}.ce.json`), 'utf8')) as Record<string, unknown>;
            const event = new CloudEvent(document);
            const data = format === 'cloudevents' ? await readFile(join(dir, String(event.dataref))) : bytesOf(event);
            if (format === 'cloudevents') assert.equal(event.dataref, `${envelope.id}.data`, 'dataref names the content file');
            assertEventIsTheMessage(event, envelope, data);
            assert.equal(event.subject, envelope.filename);
            assert.equal(JSON.parse(await readFile(join(dir, `${envelope.id}.json`), 'utf8')).id, envelope.id, 'the envelope is still there');
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
