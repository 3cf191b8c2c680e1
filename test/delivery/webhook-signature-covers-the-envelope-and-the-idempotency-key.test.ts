/**
 * A receiver relies on the envelope header (what the body is: file name, connection, sender)
 * and on the Idempotency-Key (to drop repeats) as much as on the body, so the signature covers
 * all of them: `Postroom-Signature: v2=<hex HMAC-SHA256(secret, "<timestamp>.<idempotency
 * key>.<envelope header>.<body>")>`. Changing any one of them breaks verification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeDestination, outbox, type Outbox } from './delivery-kit.ts';
import { envelopeOf, signatureVerifies, startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

const SECRET = 'v2-webhook-secret';

describe('the webhook signature', () => {
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

  it('is v2 over timestamp, idempotency key, envelope header and body; tampering with any breaks it', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url, secret: SECRET });
    const [envelope] = await box.enqueue('hook', [{ content: Buffer.from('invoice attached'), filename: 'invoice.pdf', contentType: 'application/pdf' }]);
    assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 1, retried: 0, dead: 0 });
    const request = receiver.requests.at(-1)!;
    assert.match(String(request.headers['postroom-signature']), /^v2=[0-9a-f]{64}$/);
    assert.ok(signatureVerifies(request, SECRET), 'a receiver following the README verifies it');
    assert.equal(envelopeOf(request).id, envelope!.id);

    const forged = Buffer.from(JSON.stringify({ ...envelopeOf(request), filename: 'payroll.exe', connection: 'ceo' }), 'utf8').toString('base64url');
    const tampered = [
      { ...request, headers: { ...request.headers, 'postroom-envelope': forged } },
      { ...request, headers: { ...request.headers, 'idempotency-key': '0'.repeat(32) } },
      { ...request, headers: { ...request.headers, 'postroom-timestamp': String(Number(request.headers['postroom-timestamp']) + 1) } },
      { ...request, body: Buffer.from('invoice attached!') },
      { ...request, headers: { ...request.headers, 'postroom-signature': String(request.headers['postroom-signature']).replace('v2=', 'sha256=') } },
    ];
    for (const [index, copy] of tampered.entries()) assert.equal(signatureVerifies(copy, SECRET), false, `tampering #${index} is detected`);
  });
});
