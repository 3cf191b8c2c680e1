import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oauth2TokenProvider } from '../../src/auth/provider-for.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { fakeGraphWithMailbox, graphConnection } from '../graph/graph-kit.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { type FakeOAuth2, startFakeOAuth2 } from '../support/fake-oauth2.ts';
import { runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

describe('a refusal for good (needs re-authorisation)', () => {
  let oauth: FakeOAuth2;
  let graph: FakeGraph;
  let ws: Workspace;

  before(async () => {
    oauth = await startFakeOAuth2();
    graph = await fakeGraphWithMailbox();
    ws = await workspace();
  });
  after(async () => {
    await oauth?.close();
    await graph?.close();
    await ws?.dispose();
  });

  it('turns invalid_grant into AUTH_REVOKED, asks no more, and works again with a new refresh token', async () => {
    oauth.addRefreshToken('rt-dead', 'someone');
    oauth.revokeRefreshToken('rt-dead');
    const settings = { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken: 'rt-dead' };
    const tokens = oauth2TokenProvider(settings);
    const requests = oauth.tokenRequests.length;
    const refused = await tokens.getToken().then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(isPostroomError(refused, 'AUTH_REVOKED'), String(refused));
    assert.equal(refused.retryable, false);
    assert.match(refused.explain(), /refresh token .*expired, revoked/);
    assert.doesNotMatch(refused.explain(), /rt-dead|client-secret-xyz/, 'no secret in the message');

    for (let i = 0; i < 3; i++) {
      await assert.rejects(oauth2TokenProvider(settings).getToken(), (error: unknown) => isPostroomError(error, 'AUTH_REVOKED'));
    }
    assert.equal(oauth.tokenRequests.length, requests + 1, 'the token endpoint is asked once, not on every poll');

    oauth.addRefreshToken('rt-new', 'someone');
    const renewed = oauth2TokenProvider({ ...settings, refreshToken: 'rt-new' });
    assert.match(await renewed.getToken(), /^at-/, 'new credentials leave the needs-reauth state');
  });

  it('records the poll as failed with the exact reason and does not ask the token endpoint on the next poll', async () => {
    const config = testConfig(ws, [graphConnection(graph, { clientSecret: 'wrong-secret' })]);
    const first = await runOnce(config);
    const outcome = first.polls.get('inbox365');
    assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
    assert.equal(outcome.status === 'failed' && outcome.error.code, 'AUTH_FAILED');
    assert.match(outcome.status === 'failed' ? outcome.error.explain() : '', /client secret is wrong \(AADSTS7000215\)/);
    const tokenRequests = graph.requests.filter((r) => r.kind === 'token').length;
    const second = await runOnce(config);
    assert.equal(second.polls.get('inbox365')?.status, 'failed');
    assert.equal(graph.requests.filter((r) => r.kind === 'token').length, tokenRequests, 'a refused secret is not tried again on every poll');
    assert.equal(graph.requests.filter((r) => r.kind === 'graph').length, 0, 'nothing reaches Graph without a token');
  });
});
