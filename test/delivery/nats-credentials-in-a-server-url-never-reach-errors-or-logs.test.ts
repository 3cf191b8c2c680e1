/**
 * `servers: nats://user:password@host` is how many people write a NATS address. The user and
 * password are used for the login, and the URL is shown without them everywhere: the delivery
 * error, the outbox's last error and the log line (here a wrong password, which fails).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/model/log.ts';
import { type PrivateNats, startPrivateNats } from '../support/nats-server.ts';
import { makeDestination, outbox, uniqueName } from './delivery-kit.ts';

describe('credentials in a NATS server URL', () => {
  let nats: PrivateNats;
  before(async () => {
    nats = await startPrivateNats({ user: 'postroom', pass: 'right-s3cret' });
  });
  after(async () => {
    await nats?.stop();
  });

  it('a wrong password in the URL fails without the password in the error, the last error or the log', async () => {
    const box = await outbox();
    const lines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: new Writable({
        write: (chunk, _e, done) => {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const destination = makeDestination('bus', {
      type: 'nats',
      servers: `nats://postroom:wrong-s3cret@127.0.0.1:${nats.port}`,
      subject: `${uniqueName('postroom.url.')}.{kind}`,
      timeout: '5s',
    });
    try {
      const [envelope] = await box.enqueue('bus', [{ content: Buffer.from('hello') }]);
      const error = await destination
        .deliver({ envelope: envelope!, openContent: () => box.opened.content.open('00/00000000-0000-0000-0000-000000000000') })
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      assert.ok(error, 'the delivery fails');
      assert.match(error.message, new RegExp(`nats://127\\.0\\.0\\.1:${nats.port}`), error.message);
      assert.match(error.message, /[Aa]uthorization/, error.message);
      assert.ok(!error.message.includes('wrong-s3cret'), error.message);

      await box.loop({ bus: destination }, { log } as never).deliverDue();
      const stored = await box.opened.store.getOutboxMessage(envelope!.id);
      assert.ok(stored?.lastError, 'the failure is recorded');
      assert.ok(!stored.lastError.includes('wrong-s3cret'), stored.lastError);
      const logged = lines.join('');
      assert.match(logged, /delivery failed/);
      assert.ok(!logged.includes('wrong-s3cret'), logged);
    } finally {
      await destination.close();
      await box.dispose();
    }
  });

  it('the right user and password in the URL log in and deliver', async () => {
    const box = await outbox();
    const stream = uniqueName('POSTROOM_URL_');
    const destination = makeDestination('bus', {
      type: 'nats',
      servers: `nats://postroom:right-s3cret@127.0.0.1:${nats.port}`,
      subject: `${uniqueName('postroom.url.')}.{kind}`,
      stream,
      createStream: true,
      timeout: '5s',
    });
    try {
      const [envelope] = await box.enqueue('bus', [{ content: Buffer.from('hello') }]);
      await box.loop({ bus: destination }).deliverDue();
      assert.equal((await box.opened.store.getOutboxMessage(envelope!.id))?.state, 'delivered');
    } finally {
      await destination.close();
      await box.dispose();
    }
  });
});
