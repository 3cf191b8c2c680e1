import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CachedTokenProvider, REFRESH_AHEAD_MS } from '../../src/auth/cached-token.ts';
import { refreshTokenGrant } from '../../src/auth/refresh-token-grant.ts';
import type { Clock } from '../../src/model/clock.ts';
import { type FakeOAuth2, startFakeOAuth2 } from '../support/fake-oauth2.ts';

class TestClock implements Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
  async sleep(ms: number): Promise<void> {
    this.at += ms;
  }
}

describe('OAuth2 token cache', () => {
  let oauth: FakeOAuth2;

  before(async () => {
    oauth = await startFakeOAuth2();
    oauth.addRefreshToken('rt-cache', 'someone');
  });
  after(async () => {
    await oauth?.close();
  });

  const provider = (clock: Clock, refreshToken = 'rt-cache') =>
    new CachedTokenProvider(
      refreshTokenGrant({ tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken, who: 'test client' }),
      clock,
    );

  it('reuses a token until shortly before it expires, then fetches a new one', async () => {
    oauth.lifetimeS = 3600;
    const clock = new TestClock(Date.now());
    const tokens = provider(clock);
    const requests = oauth.tokenRequests.length;
    const first = await tokens.getToken();
    clock.at += 3600_000 - REFRESH_AHEAD_MS - 1_000;
    assert.equal(await tokens.getToken(), first, 'still well before expiry: the cached token');
    assert.equal(oauth.tokenRequests.length, requests + 1);
    clock.at += 2_000;
    const second = await tokens.getToken();
    assert.notEqual(second, first, 'within the refresh margin: a new token before the old one expires');
    assert.equal(oauth.tokenRequests.length, requests + 2);
  });

  it('refreshes a short-lived token at half its lifetime, not on every call', async () => {
    oauth.lifetimeS = 60;
    const clock = new TestClock(Date.now());
    const tokens = provider(clock);
    const first = await tokens.getToken();
    clock.at += 29_000;
    assert.equal(await tokens.getToken(), first);
    clock.at += 2_000;
    assert.notEqual(await tokens.getToken(), first);
    oauth.lifetimeS = 3600;
  });

  it('shares one token request between callers, and fetches anew after invalidate()', async () => {
    const clock = new TestClock(Date.now());
    const tokens = provider(clock);
    const requests = oauth.tokenRequests.length;
    const all = await Promise.all(Array.from({ length: 5 }, () => tokens.getToken()));
    assert.equal(new Set(all).size, 1);
    assert.equal(oauth.tokenRequests.length, requests + 1, 'five callers, one request');
    tokens.invalidate();
    const fresh = await tokens.getToken();
    assert.notEqual(fresh, all[0]);
    assert.equal(oauth.tokenRequests.length, requests + 2);
  });

  it('uses a rotated refresh token from then on', async () => {
    oauth.rotateRefreshTokens = true;
    oauth.addRefreshToken('rt-rotating', 'someone');
    const clock = new TestClock(Date.now());
    const tokens = provider(clock, 'rt-rotating');
    await tokens.getToken();
    tokens.invalidate();
    // The first refresh token was revoked by the rotation: this works only with the new one.
    await tokens.getToken();
    oauth.rotateRefreshTokens = false;
  });
});
