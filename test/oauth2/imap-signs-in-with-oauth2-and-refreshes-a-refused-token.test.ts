import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { oauth2SignIn, startDovecotWithOAuth2 } from '../support/dovecot-oauth2.ts';
import type { FakeOAuth2 } from '../support/fake-oauth2.ts';
import { imapConnection, readDelivered, runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';

const USER = 'oauth-user';
const REFRESH_TOKEN = 'rt-initial-refresh-token';

describe('IMAP with OAuth2 against Dovecot', () => {
  let dovecot: Dovecot;
  let oauth: FakeOAuth2;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 5);

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
      imapConnection(dovecot, { name: USER, password: 'unused' }, {
        ...oauth2SignIn(oauth, REFRESH_TOKEN),
      }),
    ]);

  it('signs in with a token from the refresh token and delivers', async () => {
    await dovecot.deliverMany(USER, corpus.slice(0, 3).map((email) => email.raw));
    const { polls } = await runOnce(config());
    assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
    assert.equal(oauth.tokenRequests.length, 1);
    assert.ok(oauth.introspections.some((i) => i.active), 'Dovecot checked the token with the introspection endpoint');
    assert.equal((await readDelivered(ws.outDir)).length, corpus.slice(0, 3).reduce((sum, email) => sum + email.expected.parts.length, 0));
  });

  it('gets a new token when the server refuses the cached one, and the run goes on', async () => {
    await dovecot.deliverMany(USER, corpus.slice(3).map((email) => email.raw));
    oauth.killAccessTokens();
    const introspectionsBefore = oauth.introspections.length;
    const { polls } = await runOnce(config());
    assert.equal(polls.get('inbox')?.status, 'done', `${JSON.stringify(polls.get('inbox'))}\n${await dovecot.tail(20)}`);
    assert.equal(oauth.tokenRequests.length, 2, 'one refresh, no more');
    const during = oauth.introspections.slice(introspectionsBefore);
    assert.deepEqual(during.map((i) => i.active), [false, true], 'the refused token, then the fresh one');
    const delivered = await readDelivered(ws.outDir);
    assert.equal(delivered.length, corpus.reduce((sum, email) => sum + email.expected.parts.length, 0), 'every email once');
    assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, delivered.length);
    const onServer = await dovecot.listMessages(USER);
    assert.ok(onServer.every((message) => message.flags.includes('\\Seen')));
  });
});
