import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createEmailDestination, emailOptions } from '../../src/destinations/email.ts';
import { type FakeOAuth2, startFakeOAuth2 } from '../support/fake-oauth2.ts';
import { type FakeSmtp, startFakeSmtp } from '../support/fake-smtp.ts';
import { outgoing } from './email-kit.ts';

const USER = 'sender@contoso.test';

describe('SMTP with OAuth2 (XOAUTH2)', () => {
  let smtp: FakeSmtp;
  let oauth: FakeOAuth2;

  before(async () => {
    smtp = await startFakeSmtp();
    oauth = await startFakeOAuth2();
    oauth.addRefreshToken('rt-smtp', USER);
    smtp.acceptToken = (user, token) => user === USER && oauth.isActive(token);
  });
  after(async () => {
    await smtp?.close();
    await oauth?.close();
  });

  it('signs in with a token, and when the server refuses it fetches a new one once and sends', async () => {
    const options = emailOptions.parse({
      type: 'email',
      from: USER,
      to: 'ap@example.test',
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        username: USER,
        oauth2: { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken: 'rt-smtp' },
        tls: { ca: smtp.caPem },
      },
    });
    const destination = createEmailDestination('oauth-mail', options, { log: pino({ level: 'silent' }) });
    await destination.deliver(outgoing(Buffer.from('one'), { filename: 'one.txt' }));
    assert.equal(oauth.tokenRequests.length, 1);
    assert.deepEqual(
      smtp.oauthAttempts.map((a) => a.ok),
      [true],
    );
    await destination.close();

    oauth.killAccessTokens();
    const again = createEmailDestination('oauth-mail', options, { log: pino({ level: 'silent' }) });
    await again.deliver(outgoing(Buffer.from('two'), { filename: 'two.txt' }));
    await again.close();
    assert.deepEqual(
      smtp.oauthAttempts.map((a) => a.ok),
      [true, false, true],
      'refused, renewed, accepted',
    );
    assert.equal(oauth.tokenRequests.length, 2, 'exactly one refresh');
    assert.equal(smtp.accepted().length, 2);
    assert.ok(smtp.accepted().every((mail) => mail.user === USER));
  });
});
