import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createEmailDestination, emailOptions } from '../../src/destinations/email.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { accountPause } from '../../src/throttle/account-pause.ts';
import { APP, fakeGraphWithMailbox, MAILBOX, TENANT } from '../graph/graph-kit.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { type FakeSmtp, startFakeSmtp } from '../support/fake-smtp.ts';
import { sqliteTestStore, type TestStore } from '../support/stores.ts';
import { outgoing, parse, SENDER, SENDER_PASSWORD, smtpDestination } from './email-kit.ts';

const log = pino({ level: 'silent' });
const SMTP_ACCOUNT = `127.0.0.1/${SENDER}`;

describe('sending while the account is throttled', () => {
  let smtp: FakeSmtp;
  let graph: FakeGraph;
  let store: TestStore;

  before(async () => {
    smtp = await startFakeSmtp();
    smtp.users.set(SENDER, SENDER_PASSWORD);
    graph = await fakeGraphWithMailbox();
    store = await sqliteTestStore();
  });
  after(async () => {
    await smtp?.close();
    await graph?.close();
    await store?.dispose();
  });

  it('sends nothing while the account is throttled and sends once the throttle ends', async () => {
    const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp)), { log, accountPause: accountPause(store.store) });
    const until = Date.now() + 1_200;
    await store.store.setThrottle({ account: SMTP_ACCOUNT, until, reason: 'IMAP server is throttling', since: Date.now(), consecutive: 1 });
    const connections = smtp.connections;

    const waiting = await destination.deliver(outgoing(Buffer.from('first'))).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isPostroomError(waiting, 'THROTTLED'), String(waiting));
    assert.ok(
      waiting.retryAfterMs !== undefined && waiting.retryAfterMs > 0 && waiting.retryAfterMs <= 1_200,
      `waits until the throttle ends (${waiting.retryAfterMs} ms)`,
    );
    assert.equal(smtp.connections, connections, 'no SMTP connection while throttled');

    await sleep(until - Date.now() + 20);
    await destination.deliver(outgoing(Buffer.from('first')));
    assert.equal(smtp.accepted().length, 1);
    assert.equal(await store.store.getThrottle(SMTP_ACCOUNT), undefined, 'a send after the wait ends the throttle');
    await destination.close();
  });

  it('an SMTP throttling reply pauses the account for every worker and the email is sent after the wait', async () => {
    const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp, { throttleAccount: 'shared-account' })), {
      log,
      accountPause: accountPause(store.store),
    });
    smtp.refuseNext({ code: 451, text: '4.7.1 Ratelimit "user" exceeded' });
    const before = smtp.received.length;
    const throttled = await destination.deliver(outgoing(Buffer.from('second'))).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isPostroomError(throttled, 'THROTTLED') && throttled.retryAfterMs !== undefined, String(throttled));
    const state = await store.store.getThrottle('shared-account');
    assert.ok(state && state.until > Date.now(), 'the throttle is in the store');
    assert.match(state.reason, /Ratelimit/);
    assert.ok(Math.abs(state.until - Date.now() - throttled.retryAfterMs) < 250, 'the retry waits as long as the throttle');

    const connections = smtp.connections;
    await assert.rejects(
      destination.deliver(outgoing(Buffer.from('third'))),
      (error: unknown) => isPostroomError(error, 'THROTTLED') && error.retryAfterMs !== undefined,
    );
    assert.equal(smtp.connections, connections, 'nothing else is sent during the pause');
    assert.equal(smtp.received.length, before + 1);

    await sleep(state.until - Date.now() + 20);
    await destination.deliver(outgoing(Buffer.from('second')));
    await destination.close();
    const last = smtp.accepted().at(-1)!;
    assert.equal((await parse(last.raw)).attachments[0]?.content.toString(), 'second');
  });

  it('a 421 closing the session is throttling too', async () => {
    const destination = createEmailDestination('mail', emailOptions.parse(smtpDestination(smtp, { throttleAccount: 'account-421' })), {
      log,
      accountPause: accountPause(store.store),
    });
    smtp.refuseNext({ code: 421, text: '4.7.0 Try again later, closing connection.' });
    await assert.rejects(
      destination.deliver(outgoing(Buffer.from('fourth'))),
      (error: unknown) => isPostroomError(error, 'THROTTLED') && error.retryAfterMs !== undefined,
    );
    assert.ok(await store.store.getThrottle('account-421'));
    await destination.close();
  });

  it('Graph sendMail: a 429 with Retry-After throttles the mailbox, then the email goes out as MIME with its Message-ID', async () => {
    const options = emailOptions.parse({
      type: 'email',
      from: MAILBOX,
      to: 'ap@example.test',
      graph: {
        tenantId: TENANT,
        clientId: APP.clientId,
        clientSecret: APP.clientSecret,
        mailbox: MAILBOX,
        graphEndpoint: graph.url,
        authorityHost: graph.url,
        tls: { ca: graph.caPem },
      },
    });
    const destination = createEmailDestination('graph-mail', options, { log, accountPause: accountPause(store.store) });
    graph.inject((request) => request.path.endsWith('/sendMail'), {
      status: 429,
      retryAfter: '1',
      code: 'ApplicationThrottled',
      message: 'Application is over its RequestRate limit.',
    });
    const message = outgoing(Buffer.from('via graph'), { filename: 'g.txt', contentType: 'text/plain' });
    const throttled = await destination.deliver(message).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isPostroomError(throttled, 'THROTTLED'), String(throttled));
    assert.ok(
      throttled.retryAfterMs !== undefined && throttled.retryAfterMs >= 900 && throttled.retryAfterMs <= 1_000,
      `Retry-After honoured (${throttled.retryAfterMs})`,
    );
    const state = await store.store.getThrottle(`graph/${MAILBOX}`);
    assert.ok(state, 'the Graph mailbox is throttled for reading and sending');

    await assert.rejects(destination.deliver(message), (error: unknown) => isPostroomError(error, 'THROTTLED'));
    await sleep(state.until - Date.now() + 20);
    await destination.deliver(message);
    assert.equal(graph.sent.length, 1);
    const parsed = await parse(graph.sent[0]!.mime!);
    assert.equal(parsed.messageId, `<${message.envelope.id}@postroom>`);
    assert.equal(parsed.attachments[0]?.content.toString(), 'via graph');
    assert.deepEqual(graph.penaltyViolations, [], 'nothing was sent to Graph during the penalty');
  });
});
