/**
 * The Redis Streams destination against the real Redis on 127.0.0.1:6379: small content in the
 * entry, large content as a claim check the reader GETs, each pipeline message added once however
 * often it is delivered (the guard is in Redis, not in the XADD id), MAXLEN ~ trimming, and a
 * Redis that is down fails the attempt quickly, naming the server without its password.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Envelope } from '../../src/model/envelope.ts';
import { PostroomError } from '../../src/model/errors.ts';
import { binary, makeDestination, type Outbox, outbox, sha256, uniqueName } from './delivery-kit.ts';
import { freePort } from './readme-receivers.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';

/** An entry's fields as a map of buffers (content is bytes, the rest text). */
function fieldsOf(entry: [string, Buffer[]]): Map<string, Buffer> {
  const [, flat] = entry;
  const fields = new Map<string, Buffer>();
  for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!.toString(), flat[i + 1]!);
  return fields;
}

describe('the Redis Streams destination', () => {
  let redis: Redis;
  let box: Outbox;
  const prefix = uniqueName('postroom-test-');
  before(async () => {
    redis = new Redis(REDIS_URL);
    box = await outbox();
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await box?.dispose();
  });

  it('adds small content inline and large content as a claim check, each message once however often it is delivered', async () => {
    const stream = `${prefix}:emails`;
    const streams = makeDestination('streams', { type: 'redis', url: REDIS_URL, stream, maxInlineBytes: 64 * 1024 });
    const big = binary(300_000, 'claim check');
    const [body, file] = await box.enqueue('streams', [
      { content: Buffer.from('Grüße, see attached\r\n') },
      { content: big, filename: 'scan.tiff', contentType: 'image/tiff' },
    ]);
    const loop = box.loop({ streams });
    assert.deepEqual(await loop.deliverDue(), { delivered: 2, retried: 0, dead: 0 });

    // The same messages again, as after a crash before the outbox update, or from a second worker at once.
    const again = (envelope: Envelope, content: Buffer) => streams.deliver({ envelope, openContent: () => Readable.from([content]) });
    await Promise.all([again(body!, Buffer.from('Grüße, see attached\r\n')), again(file!, big), again(file!, big)]);

    const entries = (await redis.xrangeBuffer(stream, '-', '+')) as unknown as Array<[string, Buffer[]]>;
    assert.equal(entries.length, 2, 'each pipeline message is in the stream once');
    // Deliveries run side by side: find each entry by its id, not by its place.
    const byId = new Map(entries.map(fieldsOf).map((fields) => [fields.get('id')!.toString(), fields]));
    const first = byId.get(body!.id);
    const second = byId.get(file!.id);
    assert.equal(first!.get('id')!.toString(), body!.id);
    assert.equal(first!.get('kind')!.toString(), 'body');
    assert.equal(first!.get('content')!.toString(), 'Grüße, see attached\r\n', 'small content is in the entry, byte-exact');
    assert.deepEqual(JSON.parse(first!.get('envelope')!.toString()), body);

    assert.equal(second!.get('id')!.toString(), file!.id);
    assert.equal(second!.get('content'), undefined, 'large content is not in the entry');
    const key = second!.get('content-key')!.toString();
    assert.equal(key, `${stream}:postroom:content:${file!.id}`);
    const fetched = await redis.getBuffer(key);
    assert.equal(sha256(fetched!), file!.sha256, 'the claim check fetches the content, byte-exact');
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 6 * 86_400_000 && ttl <= 7 * 86_400_000, `the content key expires after contentTtl (7d by default): ${ttl} ms`);
    assert.equal(second!.get('size')!.toString(), String(big.length));
    assert.equal(second!.get('filename')!.toString(), 'scan.tiff');
    await streams.close();
  });

  it('trims the stream with MAXLEN ~ when maxLength is set', async () => {
    const stream = `${prefix}:trimmed`;
    const streams = makeDestination('trimmed', { type: 'redis', url: REDIS_URL, stream, maxLength: 10 });
    const [template] = await box.enqueue('trimmed', [{ content: Buffer.from('x') }]);
    // "~" trims whole nodes of the stream (100 entries each by default), so add a few nodes' worth.
    for (let i = 0; i < 400; i += 1)
      await streams.deliver({
        envelope: { ...template!, id: `${template!.id.slice(0, 24)}${String(i).padStart(8, '0')}` },
        openContent: () => Readable.from([Buffer.from('x')]),
      });
    const length = await redis.xlen(stream);
    assert.ok(length >= 10 && length < 400, `trimmed to about 10 entries (${length} of 400)`);
    await streams.close();
  });

  it('fails an attempt quickly while Redis is unreachable, naming the server and never the password', async () => {
    const port = await freePort();
    const streams = makeDestination('down', { type: 'redis', url: `redis://:hunter2-redis@127.0.0.1:${port}/0`, stream: `${prefix}:down`, timeout: '2s' });
    const [envelope] = await box.enqueue('down', [{ content: Buffer.from('nobody home') }]);
    const started = Date.now();
    const error = await streams.deliver({ envelope: envelope!, openContent: () => Readable.from([Buffer.from('nobody home')]) }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof PostroomError, String(error));
    assert.equal(error.code, 'DELIVERY_FAILED');
    assert.match(error.message, new RegExp(`Redis at 127\\.0\\.0\\.1:${port} did not take ${envelope!.id}`));
    assert.doesNotMatch(error.message, /hunter2/);
    assert.ok(Date.now() - started < 2_500, `within the timeout (${Date.now() - started} ms)`);
    await streams.close();
  });
});
