/**
 * The README's readers for the directory, RabbitMQ and NATS JetStream destinations, run exactly
 * as printed there (queue, stream and directory names swapped for the test's own): each reads
 * what Postroom delivered, checks it against the envelope's SHA-256 and prints what it got.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect as amqpConnect } from 'amqplib';
import { connect as natsConnect } from 'nats';
import type { Envelope } from '../../src/model/envelope.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';
import { binary, makeDestination, type Outbox, outbox, uniqueName } from './delivery-kit.ts';
import { runReadmeReceiver } from './readme-receivers.ts';

const RABBITMQ_URL = process.env.POSTROOM_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_SERVER = process.env.POSTROOM_TEST_NATS ?? 'nats://127.0.0.1:4222';

const parts = () => [
  { content: Buffer.from('Grüße\r\n') },
  { content: binary(60_000, 'readme readers'), filename: 'Überweisung.pdf', contentType: 'application/pdf' },
];
const expectedLines = (sent: Envelope[]) => sent.map((e) => `${e.id} ${e.kind} ${e.filename} ${e.size}`).sort();

describe("the README's readers", () => {
  let box: Outbox;
  let ws: Workspace;
  before(async () => {
    box = await outbox();
    ws = await workspace();
  });
  after(async () => {
    await box?.dispose();
    await ws?.dispose();
  });

  it('directory: reads each complete message, new ones too', async () => {
    const files = makeDestination('files', { type: 'directory', path: ws.outDir });
    const first = await box.enqueue('files', parts().slice(0, 1));
    const loop = box.loop({ files });
    assert.deepEqual(await loop.deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    const reader = await runReadmeReceiver('directory', 'node', { POSTROOM_OUT: ws.outDir }, async () => true);
    try {
      await waitFor('the message already there', () => reader.lines().length >= 1, 10_000);
      const later = await box.enqueue('files', parts().slice(1));
      assert.deepEqual(await loop.deliverDue(), { delivered: 1, retried: 0, dead: 0 });
      await waitFor('the new message', () => reader.lines().length >= 2, 10_000);
      assert.deepEqual(reader.lines().sort(), expectedLines([...first, ...later]));
    } finally {
      await reader.stop();
    }
  });

  it('RabbitMQ: consumes, checks and acknowledges each message', async () => {
    const queue = uniqueName('postroom-test-readme-');
    const broker = await amqpConnect(RABBITMQ_URL);
    const channel = await broker.createChannel();
    await channel.assertQueue(queue, { durable: true });
    const reader = await runReadmeReceiver('rabbitmq', 'node', { AMQP_URL: RABBITMQ_URL }, async () => (await channel.checkQueue(queue)).consumerCount > 0, {
      "'emails'": `'${queue}'`,
    });
    try {
      const rabbit = makeDestination('rabbit', { type: 'rabbitmq', url: RABBITMQ_URL, queue });
      const sent = await box.enqueue('rabbit', parts());
      assert.deepEqual(await box.loop({ rabbit }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
      await rabbit.close();
      await waitFor('both lines', () => reader.lines().length >= 2, 10_000);
      assert.deepEqual(reader.lines().sort(), expectedLines(sent));
      await waitFor('both acknowledged', async () => (await channel.checkQueue(queue)).messageCount === 0, 5_000);
    } finally {
      await reader.stop();
      await channel.deleteQueue(queue).catch(() => {});
      await broker.close();
    }
  });

  it('NATS JetStream: a durable consumer reads, checks and acknowledges each message', async () => {
    const stream = uniqueName('POSTROOM_TEST_README_');
    const subject = uniqueName('postroom.test.readme.');
    const nats = makeDestination('nats', { type: 'nats', servers: NATS_SERVER, subject: `${subject}.{kind}`, stream, createStream: true });
    const sent = await box.enqueue('nats', parts());
    assert.deepEqual(await box.loop({ nats }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
    await nats.close();
    const nc = await natsConnect({ servers: NATS_SERVER });
    const reader = await runReadmeReceiver('nats', 'node', { NATS_URL: NATS_SERVER }, async () => true, { "'MAIL'": `'${stream}'` });
    try {
      await waitFor('both lines', () => reader.lines().length >= 2, 10_000);
      assert.deepEqual(reader.lines().sort(), expectedLines(sent));
      const jsm = await nc.jetstreamManager();
      await waitFor('both acknowledged', async () => (await jsm.consumers.info(stream, 'invoices')).num_ack_pending === 0, 5_000);
    } finally {
      await reader.stop();
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => {});
      await nc.close();
    }
  });
});
