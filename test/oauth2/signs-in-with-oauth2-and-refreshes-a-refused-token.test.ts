import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { oauth2SignIn, startDovecotWithOAuth2 } from '../support/dovecot-oauth2.ts';
import type { FakeOAuth2 } from '../support/fake-oauth2.ts';
import { imapConnection, pop3Connection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

/** What differs between the protocols; the sign-in and refresh behaviour is the same. */
const PROTOCOLS = [
  {
    suite: 'IMAP with OAuth2 against Dovecot',
    firstTest: 'signs in with a token from the refresh token and delivers',
    user: 'oauth-user',
    refreshToken: 'rt-initial-refresh-token',
    emails: 5,
    firstRun: 3,
    connection: imapConnection,
    /** IMAP keeps the emails, marked seen (checked after the second run only). */
    afterFirstRun: async (_dovecot: Dovecot, _user: string): Promise<void> => undefined,
    afterSecondRun: async (dovecot: Dovecot, user: string, delivered: Awaited<ReturnType<typeof readDelivered>>): Promise<void> => {
      assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, delivered.length);
      const onServer = await dovecot.listMessages(user);
      assert.ok(onServer.every((message) => message.flags.includes('\\Seen')));
    },
  },
  {
    suite: 'POP3 with OAuth2 (SASL XOAUTH2) against Dovecot',
    firstTest: 'signs in with a token from the refresh token, delivers and deletes',
    user: 'pop-oauth-user',
    refreshToken: 'rt-pop3-refresh-token',
    emails: 4,
    firstRun: 2,
    connection: pop3Connection,
    /** POP3 always deletes. */
    afterFirstRun: async (dovecot: Dovecot, user: string): Promise<void> => {
      assert.deepEqual(await dovecot.listMessages(user), []);
    },
    afterSecondRun: async (dovecot: Dovecot, user: string): Promise<void> => {
      assert.deepEqual(await dovecot.listMessages(user), []);
    },
  },
];

for (const protocol of PROTOCOLS) {
  describe(protocol.suite, () => {
    const USER = protocol.user;
    const REFRESH_TOKEN = protocol.refreshToken;
    let dovecot: Dovecot;
    let oauth: FakeOAuth2;
    let ws: Workspace;
    const corpus = buildCorpus().slice(0, protocol.emails);

    before(async () => {
      ({ dovecot, oauth } = await startDovecotWithOAuth2(USER, REFRESH_TOKEN));
      ws = await workspace();
    });
    after(async () => {
      await dovecot?.stop();
      await oauth?.close();
      await ws?.dispose();
    });

    const config = () =>
      testConfig(ws, [
        protocol.connection(
          dovecot,
          { name: USER, password: 'unused' },
          {
            ...oauth2SignIn(oauth, REFRESH_TOKEN),
          },
        ),
      ]);

    it(protocol.firstTest, async () => {
      await dovecot.deliverMany(
        USER,
        corpus.slice(0, protocol.firstRun).map((email) => email.raw),
      );
      const { polls } = await runOnce(config());
      assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
      assert.equal(oauth.tokenRequests.length, 1);
      assert.ok(
        oauth.introspections.some((i) => i.active),
        'Dovecot checked the token with the introspection endpoint',
      );
      assert.equal(
        (await readDelivered(ws.outDir)).length,
        corpus.slice(0, protocol.firstRun).reduce((sum, email) => sum + email.expected.parts.length, 0),
      );
      await protocol.afterFirstRun(dovecot, USER);
    });

    it('gets a new token when the server refuses the cached one, and the run goes on', async () => {
      await dovecot.deliverMany(
        USER,
        corpus.slice(protocol.firstRun).map((email) => email.raw),
      );
      oauth.killAccessTokens();
      const introspectionsBefore = oauth.introspections.length;
      const { polls } = await runOnce(config());
      assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
      assert.equal(oauth.tokenRequests.length, 2, 'one refresh, no more');
      const during = oauth.introspections.slice(introspectionsBefore);
      assert.deepEqual(
        during.map((i) => i.active),
        [false, true],
        'the refused token, then the fresh one',
      );
      const delivered = await readDelivered(ws.outDir);
      assert.equal(
        delivered.length,
        corpus.reduce((sum, email) => sum + email.expected.parts.length, 0),
        'every email once',
      );
      await protocol.afterSecondRun(dovecot, USER, delivered);
    });
  });
}
