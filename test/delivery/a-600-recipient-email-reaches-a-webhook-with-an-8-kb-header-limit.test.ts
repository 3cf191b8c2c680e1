/**
 * An email to 600 people (300 To, 300 Cc, with display names) has an envelope far over the 8 KB
 * of headers that strict web servers accept. Its messages still reach a receiver whose HTTP
 * server allows 8192 header bytes: by default the `Postroom-Envelope` header is shortened to
 * fit (recipients first, the counts kept, and a header saying so); with `envelope: body` the
 * whole envelope travels as the first part of a multipart/form-data body, under the signature.
 * Without the cap the same receiver refuses the request (431), so the limit is real.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EnvelopeEmail } from '../../src/model/envelope.ts';
import { mime, split, type TempStore, tempStore } from '../mime/mime-test-kit.ts';
import { binary, makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { envelopeOf, makeSecret, signatureVerifies, startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

function recipients(count: number, team: string): string {
  return Array.from({ length: count }, (_, i) => `"Mitarbeiterin Nummer ${i} (${team})" <mitarbeiterin.${i}@${team}.example.com>`).join(',\r\n ');
}

describe('a 600-recipient email and a receiver with maxHeaderSize 8192', () => {
  let receiver: WebhookReceiver;
  let box: Outbox;
  let mimeStore: TempStore;
  let email: EnvelopeEmail;
  before(async () => {
    receiver = await startReceiver({ maxHeaderSize: 8192 });
    box = await outbox();
    mimeStore = await tempStore();
    const raw = mime(
      'From: Vorstand <vorstand@example.com>',
      `To: ${recipients(300, 'vertrieb')}`,
      `Cc: ${recipients(300, 'einkauf')}`,
      'Subject: Betriebsversammlung',
      'Message-ID: <all-hands@example.com>',
      '',
      'Liebe alle,',
      '',
    );
    ({ email } = await split(raw, mimeStore.content));
    assert.equal(email.toCount, 300);
    assert.equal(email.to.length, 100, 'the envelope lists the first 100 of each field');
  });
  after(async () => {
    await box?.dispose();
    await receiver?.close();
    await mimeStore?.dispose();
  });

  const parts = () => [
    { content: Buffer.from('Liebe alle,\r\n') },
    { content: binary(20_000, 'agenda'), filename: 'Tagesordnung.pdf', contentType: 'application/pdf' },
  ];

  it('is refused with 431 when the whole envelope is sent as a header', async () => {
    const hook = makeDestination('uncapped', { type: 'webhook', url: receiver.url, maxEnvelopeHeaderBytes: 1_000_000 });
    const [envelope] = await box.enqueue('uncapped', parts().slice(0, 1), 'inbox', email);
    assert.deepEqual(await box.loop({ uncapped: hook }).deliverDue(), { delivered: 0, retried: 0, dead: 1 });
    assert.match((await box.opened.store.getOutboxMessage(envelope!.id))?.lastError ?? '', /answered 431/);
    await hook.close();
  });

  it('gets through by default: the envelope header is shortened to 4 KB, counts kept, and says so', async () => {
    const hook = makeDestination('hook', { type: 'webhook', url: receiver.url });
    const sent = await box.enqueue('hook', parts(), 'inbox', email);
    assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
    await hook.close();
    for (const envelope of sent) {
      const request = receiver.requests.find((r) => r.headers['webhook-id'] === envelope.id)!;
      assert.ok(String(request.headers['postroom-envelope']).length <= 4096, 'at most maxEnvelopeHeaderBytes');
      assert.equal(request.headers['postroom-envelope-shortened'], 'true');
      const header = envelopeOf(request);
      assert.deepEqual({ ...header, email: undefined }, { ...envelope, email: undefined }, 'everything but the recipient lists is whole');
      assert.ok(header.email.to.length < 100 && header.email.to.length > 0, `some recipients are listed (${header.email.to.length})`);
      assert.deepEqual(header.email.to, envelope.email.to.slice(0, header.email.to.length), 'the first ones, in order');
      assert.equal(header.email.toCount, 300, 'toCount still says how many there were');
      assert.equal(header.email.ccCount, 300);
      assert.equal(header.email.subject, 'Betriebsversammlung');
    }
  });

  it('with envelope: body, the whole envelope is the first part of a signed multipart body', async () => {
    const secret = makeSecret();
    const hook = makeDestination('multipart', { type: 'webhook', url: receiver.url, envelope: 'body', secret });
    const sent = await box.enqueue('multipart', parts(), 'inbox', email);
    assert.deepEqual(await box.loop({ multipart: hook }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
    await hook.close();
    for (const [index, envelope] of sent.entries()) {
      const request = receiver.requests.find((r) => r.headers['webhook-id'] === envelope.id)!;
      assert.equal(request.headers['postroom-envelope'], undefined, 'no envelope header');
      assert.match(String(request.headers['content-type']), /^multipart\/form-data; boundary=/);
      assert.equal(request.headers['content-length'], String(request.body.length));
      assert.ok(signatureVerifies(request, secret), 'the signature covers the envelope part too');
      // The WHATWG fetch form parser, as a receiver's framework would read it.
      const form = await new Response(new Uint8Array(request.body), { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
      assert.deepEqual([...form.keys()], ['envelope', 'content'], 'the envelope first, then the content');
      assert.deepEqual(JSON.parse(String(form.get('envelope'))), envelope, 'the whole envelope, all 200 listed recipients');
      const content = form.get('content') as File;
      assert.deepEqual(Buffer.from(await content.arrayBuffer()), parts()[index]!.content, 'the content, byte-exact');
      assert.equal(content.type, envelope.contentType);
    }
  });
});
