import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createEmailDestination, emailOptions } from '../../src/destinations/email.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { accountPause } from '../../src/throttle/account-pause.ts';
import { type FakeSmtp, startFakeSmtp } from '../support/fake-smtp.ts';
import { sqliteTestStore, type TestStore } from '../support/stores.ts';
import { outgoing, parse, SENDER, SENDER_PASSWORD, sha256, smtpDestination } from './email-kit.ts';

describe('a retried email send', () => {
  let smtp: FakeSmtp;
  let store: TestStore;

  before(async () => {
    smtp = await startFakeSmtp();
    smtp.users.set(SENDER, SENDER_PASSWORD);
    store = await sqliteTestStore();
  });
  after(async () => {
    await smtp?.close();
    await store?.dispose();
  });

  it('sends the same email again, same Message-ID and same bytes, after a temporary refusal', async () => {
    const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp)), {
      log: pino({ level: 'silent' }),
      accountPause: accountPause(store.store),
    });
    const content = Buffer.from('%PDF-1.4 fake invoice bytes \u0000\u0001\u00ff', 'latin1');
    const message = outgoing(content);
    smtp.refuseNext({ code: 451, text: '4.3.0 Temporary local problem, try later' });

    const failure = await destination.deliver(message).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isPostroomError(failure, 'DELIVERY_FAILED'), String(failure));
    assert.equal(failure.retryable, true);
    assert.equal(await store.store.getThrottle(`127.0.0.1/${SENDER}`), undefined, 'a plain temporary failure is not throttling');

    await destination.deliver(message);
    await destination.close();
    assert.equal(smtp.received.length, 2);
    const [first, second] = smtp.received;
    assert.equal(first!.refusedWith, '451 4.3.0 Temporary local problem, try later');
    assert.equal(second!.refusedWith, undefined);
    assert.ok(first!.raw.equals(second!.raw), 'the retry is byte for byte the same email');
    const parsed = await parse(second!.raw);
    assert.equal(parsed.messageId, `<${message.envelope.id}@postroom>`);
    assert.equal(parsed.attachments[0]?.filename, 'invoice.pdf');
    assert.equal(sha256(parsed.attachments[0]!.content), message.envelope.sha256);
  });

  it('refuses for good (dead letter at once) when the server rejects the email permanently', async () => {
    const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp)), {
      log: pino({ level: 'silent' }),
      accountPause: accountPause(store.store),
    });
    smtp.refuseNext({ code: 554, text: '5.6.0 Message content rejected' });
    await assert.rejects(
      destination.deliver(outgoing(Buffer.from('x'), { filename: 'x.bin' })),
      (error: unknown) => isPostroomError(error, 'DELIVERY_REJECTED') && /5\.6\.0/.test(error.message),
    );
    await destination.close();
  });
});
