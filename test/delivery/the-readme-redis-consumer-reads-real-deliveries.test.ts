/**
 * The README's Redis Streams consumer, run exactly as printed there (its stream name swapped
 * for the test's own), reads what Postroom added: inline content and a claim-checked one.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Redis } from 'ioredis';
import { waitFor } from '../support/wait-for.ts';
import { binary, makeDestination, type Outbox, outbox, uniqueName } from './delivery-kit.ts';
import { runReadmeReceiver } from './readme-receivers.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const stream = `${uniqueName('postroom-readme-')}:emails`;
let box: Outbox;
let redis: Redis;

before(async () => {
  box = await outbox();
  redis = new Redis(REDIS_URL);
});
after(async () => {
  const keys = await redis.keys(`${stream}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await box?.dispose();
});

it("the README's consumer reads inline and claim-checked content", async () => {
  const consumer = await runReadmeReceiver('redis', 'node', { REDIS_URL }, async () => (await redis.exists(stream)) === 1, { 'postroom:emails': stream });
  try {
    const streams = makeDestination('streams', { type: 'redis', url: REDIS_URL, stream, maxInlineBytes: 1024 });
    const big = binary(50_000, 'readme redis');
    const [body, file] = await box.enqueue('streams', [
      { content: Buffer.from('Grüße\r\n') },
      { content: big, filename: 'Überweisung.pdf', contentType: 'application/pdf' },
    ]);
    assert.deepEqual(await box.loop({ streams }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
    await waitFor('both lines', () => consumer.lines().length >= 2, 10_000);
    assert.deepEqual(consumer.lines().sort(), [`${body!.id} body body.txt ${body!.size}`, `${file!.id} attachment Überweisung.pdf ${big.length}`].sort());
    assert.equal(((await redis.xpending(stream, 'invoices')) as [number])[0], 0, 'the consumer acknowledged both entries');
    await streams.close();
  } finally {
    await consumer.stop();
  }
});
