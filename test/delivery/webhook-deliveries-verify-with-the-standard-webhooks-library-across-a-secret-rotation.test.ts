/**
 * A receiver verifies Postroom's webhooks with the official `standardwebhooks` package, the
 * one Svix, Resend and others document: `webhook-id` is the pipeline message id, the signature
 * covers id, timestamp and body, and while a secret is being rotated every request carries a
 * signature for each configured secret, so a receiver holding the old one or the new one both
 * verify it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { binary, makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { envelopeOf, makeSecret, type ReceivedRequest, signatureVerifies, startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/** What a receiver using the package does with the raw body and the headers as received. */
function verifiedBy(secret: string, request: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(request.body, request.headers as Record<string, string>, { jsonParse: false });
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}

describe('Standard Webhooks signatures', () => {
  let receiver: WebhookReceiver;
  let box: Outbox;
  before(async () => {
    receiver = await startReceiver();
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
    await receiver?.close();
  });

  it('verify with the official package, before, during and after a secret rotation', async () => {
    const oldSecret = makeSecret();
    const newSecret = makeSecret();
    const deliverWith = async (secret: string | string[], text: string): Promise<ReceivedRequest> => {
      const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, secret });
      const [envelope] = await box.enqueue('hook', [{ content: Buffer.from(text), contentType: 'text/plain; charset=utf-8' }]);
      assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
      await hook.close();
      const request = receiver.requests.at(-1)!;
      assert.equal(request.headers['webhook-id'], envelope!.id, 'webhook-id is the pipeline message id');
      assert.equal(envelopeOf(request).id, envelope!.id);
      return request;
    };

    const before = await deliverWith(oldSecret, 'Rechnung 1 – Grüße');
    assert.match(String(before.headers['webhook-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.ok(Math.abs(Number(before.headers['webhook-timestamp']) - Date.now() / 1000) < 5, 'webhook-timestamp is now, in seconds');
    assert.ok(verifiedBy(oldSecret, before));
    assert.equal(verifiedBy(newSecret, before), false, 'a secret not configured yet does not verify');

    const during = await deliverWith([newSecret, oldSecret], 'Rechnung 2 – Grüße');
    assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2, 'one signature per secret, space-separated');
    assert.ok(verifiedBy(newSecret, during), 'a receiver already on the new secret verifies it');
    assert.ok(verifiedBy(oldSecret, during), 'a receiver still on the old secret verifies it');

    const afterwards = await deliverWith(newSecret, 'Rechnung 3 – Grüße');
    assert.ok(verifiedBy(newSecret, afterwards));
    assert.equal(verifiedBy(oldSecret, afterwards), false, 'the retired secret no longer verifies');

    const tampered: ReceivedRequest[] = [
      { ...during, body: Buffer.from('Rechnung 2 – Grüße!') },
      { ...during, headers: { ...during.headers, 'webhook-id': '0'.repeat(32) } },
      { ...during, headers: { ...during.headers, 'webhook-timestamp': String(Number(during.headers['webhook-timestamp']) + 1) } },
      { ...during, headers: { ...during.headers, 'webhook-signature': String(during.headers['webhook-signature']).replaceAll('v1,', 'v2,') } },
    ];
    for (const [index, copy] of tampered.entries()) {
      assert.equal(verifiedBy(newSecret, copy), false, `tampering #${index} is detected by the package`);
      assert.equal(signatureVerifies(copy, newSecret), false, `tampering #${index} is detected by the README's recipe`);
    }
  });

  it('signs the envelope header too, so a receiver can trust the envelope (and a shortened one)', async () => {
    const secret = makeSecret();
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, secret, maxEnvelopeHeaderBytes: 1024 });
    const to = Array.from({ length: 200 }, (_, index) => `recipient-${index}@example.com`);
    await box.enqueue('hook', [{ content: Buffer.from('Rechnung 4'), contentType: 'text/plain' }], 'inbox', {
      messageId: '<many@postroom.test>',
      from: 'sender@postroom.test',
      to,
      cc: [],
      subject: 'to 200 people',
      date: null,
    });
    assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await hook.close();
    const request = receiver.requests.at(-1)!;
    assert.equal(request.headers['postroom-envelope-shortened'], 'true', 'the 200 recipients do not fit in 1 KB');
    const envelopeSigned = (headers: Record<string, unknown>): boolean => {
      try {
        new Webhook(secret).verify(
          String(headers['postroom-envelope']),
          {
            'webhook-id': String(headers['webhook-id']),
            'webhook-timestamp': String(headers['webhook-timestamp']),
            'webhook-signature': String(headers['postroom-envelope-signature']),
          },
          { jsonParse: false },
        );
        return true;
      } catch (error) {
        if (error instanceof WebhookVerificationError) return false;
        throw error;
      }
    };
    assert.ok(envelopeSigned(request.headers), 'the package verifies Postroom-Envelope-Signature over the header as sent');
    const forged = Buffer.from(JSON.stringify({ ...envelopeOf(request), connection: 'someone-else' }), 'utf8').toString('base64url');
    assert.equal(envelopeSigned({ ...request.headers, 'postroom-envelope': forged }), false, 'a changed envelope does not verify');
  });

  it('signs the raw bytes of a binary attachment, as the README recipe checks them', async () => {
    const secret = makeSecret();
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, secret });
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), binary(50_000, 'not utf-8')]);
    await box.enqueue('hook', [{ content: pdf, filename: 'invoice.pdf', contentType: 'application/pdf' }]);
    assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    await hook.close();
    const request = receiver.requests.at(-1)!;
    assert.deepEqual(request.body, pdf);
    assert.ok(signatureVerifies(request, secret), 'HMAC over the exact bytes received');
    assert.equal(
      signatureVerifies({ ...request, body: Buffer.concat([pdf.subarray(0, -1), Buffer.from([pdf.at(-1)! ^ 1])]) }, secret),
      false,
      'one flipped bit fails',
    );
    // The JavaScript package decodes a Buffer body as UTF-8 before hashing, which changes bytes
    // that are not UTF-8: it cannot verify a binary body (the README says so).
    assert.equal(verifiedBy(secret, request), false);
  });
});
