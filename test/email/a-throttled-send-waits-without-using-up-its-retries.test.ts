import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, it } from 'node:test';
import pino from 'pino';
import { createEmailDestination, emailOptions } from '../../src/destinations/email.ts';
import { DeliveryLoop, QUICK_ATTEMPTS } from '../../src/engine/delivery.ts';
import type { Clock } from '../../src/model/clock.ts';
import { type Envelope, pipelineMessageId } from '../../src/model/envelope.ts';
import { accountPause } from '../../src/throttle/account-pause.ts';
import { type FakeSmtp, startFakeSmtp } from '../support/fake-smtp.ts';
import { sqliteTestStore, type TestStore } from '../support/stores.ts';
import { SENDER, SENDER_PASSWORD, smtpDestination } from './email-kit.ts';

const log = pino({ level: 'silent' });
let smtp: FakeSmtp;
let t: TestStore;
before(async () => {
  smtp = await startFakeSmtp();
  smtp.users.set(SENDER, SENDER_PASSWORD);
  t = await sqliteTestStore();
});
after(async () => {
  await smtp?.close();
  await t?.dispose();
});

it('keeps a message out of the dead letters and its attempts at zero however long the account stays throttled, then sends it once', async () => {
  let now = Date.now();
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp)), { log, accountPause: accountPause(t.store) });
  const content = await t.content.write(Readable.from([Buffer.from('invoice bytes')]));
  const envelope: Envelope = {
    id: pipelineMessageId('c', 'imap:INBOX:1:1', 1),
    connection: 'c',
    kind: 'attachment',
    filename: 'invoice.pdf',
    contentType: 'application/pdf',
    size: content.size,
    sha256: content.sha256,
    partIndex: 1,
    source: { protocol: 'imap', folder: 'INBOX', uidValidity: '1', uid: 1 },
    email: { messageId: '<m@x>', from: null, to: [], cc: [], subject: 'invoice', date: null },
    receivedAt: new Date(now).toISOString(),
  };
  const lease = (await t.store.acquireLease('c', 'w', 60_000, now))!;
  await t.store.commitEmail(lease, {
    connection: 'c',
    sourceKey: 'imap:INBOX:1:1',
    key: envelope.source,
    fingerprint: null,
    messageId: '<m@x>',
    rawSha256: 'r',
    rawRef: content.ref,
    messages: [{ envelope, destination: 'mail', contentRef: content.ref }],
    now,
  });
  const loop = new DeliveryLoop({
    store: t.store,
    contents: t.content,
    destinations: new Map([['mail', destination]]),
    clock,
    log,
    holder: 'w',
    deadLetterSchedule: [60_000],
    keepDeliveredMs: 86_400_000,
  });

  // The sending account is throttled (the destination reads the real clock) for longer than
  // the loop's quick retries would last on its own clock.
  const until = Date.now() + 2_000;
  await t.store.setThrottle({ account: `127.0.0.1/${SENDER}`, until, reason: '421 4.7.0 Try again later', since: now, consecutive: 1 });
  for (let round = 0; round < QUICK_ATTEMPTS * 3; round++) {
    await loop.deliverDue();
    now += 5 * 60_000;
  }
  const waiting = await t.store.getOutboxMessage(envelope.id);
  assert.equal(waiting?.state, 'pending', 'not a dead letter');
  assert.equal(waiting?.attempts, 0, 'throttled waits cost no attempt');
  assert.equal(smtp.received.length, 0, 'nothing was sent to the throttled account');

  await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 50));
  now += 3_600_000;
  await loop.deliverDue();
  assert.equal((await t.store.getOutboxMessage(envelope.id))?.state, 'delivered');
  assert.equal(smtp.received.length, 1);
  await destination.close();
});
