/**
 * The README's Node and Python webhook receivers, run exactly as printed there, verify the
 * signature of real deliveries (a text body and a binary attachment), read the envelope, and
 * refuse a request signed with another secret (which Postroom then sends to the dead letters).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../support/wait-for.ts';
import { binary, makeDestination, type Outbox, outbox } from './delivery-kit.ts';
import { listening, runReadmeReceiver } from './readme-receivers.ts';
import { makeSecret } from './webhook-receiver.ts';

describe("the README's webhook receivers", () => {
  let box: Outbox;
  before(async () => {
    box = await outbox();
  });
  after(async () => {
    await box?.dispose();
  });

  for (const language of ['node', 'python'] as const) {
    it(`${language}: verifies and reads a body and a binary attachment, refuses a wrong signature`, async () => {
      const secret = makeSecret();
      const receiver = await runReadmeReceiver('webhook', language, { WEBHOOK_SECRET: secret }, listening);
      try {
        const url = `http://127.0.0.1:${receiver.port}/hooks/postroom`;
        const hook = makeDestination('hook', { type: 'webhook', url, secret });
        const pdf = binary(70_000, `readme ${language}`);
        const [body, file] = await box.enqueue('hook', [
          { content: Buffer.from('Grüße\r\n') },
          { content: pdf, filename: 'Überweisung.pdf', contentType: 'application/pdf' },
        ]);
        assert.deepEqual(await box.loop({ hook }).deliverDue(), { delivered: 2, retried: 0, dead: 0 });
        await waitFor('both lines', () => receiver.lines().length >= 2, 5_000);
        assert.deepEqual(receiver.lines().sort(), [`${body!.id} body body.txt ${body!.size}`, `${file!.id} attachment Überweisung.pdf ${pdf.length}`].sort());

        const impostor = makeDestination('impostor', { type: 'webhook', url, secret: makeSecret() });
        const [forged] = await box.enqueue('impostor', [{ content: Buffer.from('pay me') }]);
        assert.deepEqual(await box.loop({ impostor }).deliverDue(), { delivered: 0, retried: 0, dead: 1 }, 'a 401 is a refusal for good');
        assert.match((await box.opened.store.getOutboxMessage(forged!.id))?.lastError ?? '', /answered 401/);
        assert.equal(receiver.lines().length, 2, 'the receiver read nothing it could not verify');
        await hook.close();
        await impostor.close();
      } finally {
        await receiver.stop();
      }
    });
  }
});
