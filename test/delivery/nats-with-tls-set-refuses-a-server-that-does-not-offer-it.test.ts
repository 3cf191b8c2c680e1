/**
 * With `tls` set the NATS destination talks TLS or not at all: the local server offers no TLS,
 * so the delivery fails with an error that says so (and is retried), never falling back to a
 * plain connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { destinationSchema } from '../../src/config/schema.ts';
import { makeDestination, outbox, uniqueName } from './delivery-kit.ts';

const NATS_SERVER = process.env.POSTROOM_TEST_NATS ?? 'nats://127.0.0.1:4222';

describe('NATS with tls', () => {
  let nc: NatsConnection;
  before(async () => {
    nc = await connect({ servers: NATS_SERVER });
  });
  after(async () => {
    await nc?.close();
  });

  for (const tls of [true, { rejectUnauthorized: true }] as const) {
    it(`tls: ${JSON.stringify(tls)} refuses the plain server and publishes nothing`, async () => {
      const box = await outbox();
      const subject = `${uniqueName('postroom.tls.')}.body`;
      const seen = nc.subscribe(subject);
      const destination = makeDestination('bus', { type: 'nats', servers: NATS_SERVER, subject, tls, timeout: '5s' });
      try {
        const [envelope] = await box.enqueue('bus', [{ content: Buffer.from('must not travel in plain text') }]);
        const error = await destination
          .deliver({
            envelope: envelope!,
            openContent: () => {
              throw new Error('no content should be read');
            },
          })
          .then(
            () => undefined,
            (e: unknown) => e as Error & { code?: string },
          );
        assert.ok(error, 'the delivery fails');
        assert.equal(error.code, 'DELIVERY_FAILED');
        assert.match(error.message, /does not offer TLS/, error.message);
        await nc.flush();
        assert.equal(seen.getProcessed(), 0, 'nothing was published');
      } finally {
        seen.unsubscribe();
        await destination.close();
        await box.dispose();
      }
    });
  }

  it('the config refuses a tls option that is neither true nor { ca, rejectUnauthorized }', () => {
    const parsed = destinationSchema.safeParse({ type: 'nats', servers: NATS_SERVER, subject: 'a.b', tls: { verify: false } });
    assert.equal(parsed.success, false);
    assert.equal(parsed.error?.issues[0]?.path[0], 'tls');
  });
});
