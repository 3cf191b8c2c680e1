import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { oauth2SignIn, startDovecotWithOAuth2 } from '../support/dovecot-oauth2.ts';
import type { FakeOAuth2 } from '../support/fake-oauth2.ts';
import { pop3Connection, readDelivered, runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';

const USER = 'pop-oauth-user';
const REFRESH_TOKEN = 'rt-pop3-refresh-token';

describe('POP3 with OAuth2 (SASL XOAUTH2) against Dovecot', () => {
  let dovecot: Dovecot;
  let oauth: FakeOAuth2;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 4);

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
      pop3Connection(dovecot, { name: USER, password: 'unused' }, {
        ...oauth2SignIn(oauth, REFRESH_TOKEN),
      }),
    ]);

  it('signs in with a token from the refresh token, delivers and deletes', async () => {
    await dovecot.deliverMany(USER, corpus.slice(0, 2).map((email) => email.raw));
    const { polls } = await runOnce(config());
    assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
    assert.equal(oauth.tokenRequests.length, 1);
    assert.ok(oauth.introspections.some((i) => i.active), 'Dovecot checked the token with the introspection endpoint');
    assert.equal((await readDelivered(ws.outDir)).length, corpus.slice(0, 2).reduce((sum, email) => sum + email.expected.parts.length, 0));
    assert.deepEqual(await dovecot.listMessages(USER), []);
  });

  it('gets a new token when the server refuses the cached one, and the run goes on', async () => {
    await dovecot.deliverMany(USER, corpus.slice(2).map((email) => email.raw));
    oauth.killAccessTokens();
    const introspectionsBefore = oauth.introspections.length;
    const { polls } = await runOnce(config());
    assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
    assert.equal(oauth.tokenRequests.length, 2, 'one refresh, no more');
    const during = oauth.introspections.slice(introspectionsBefore);
    assert.deepEqual(during.map((i) => i.active), [false, true], 'the refused token, then the fresh one');
    const delivered = await readDelivered(ws.outDir);
    assert.equal(delivered.length, corpus.reduce((sum, email) => sum + email.expected.parts.length, 0), 'every email once');
    assert.deepEqual(await dovecot.listMessages(USER), []);
  });
});
