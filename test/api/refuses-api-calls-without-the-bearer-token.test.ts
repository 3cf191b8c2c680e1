import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenMatches } from '../../src/api/auth.ts';
import { MAX_FAILURES, WINDOW_MS } from '../../src/api/login-limiter.ts';
import { ROUTES } from '../../src/api/routes/index.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, jumpingClock, startApi, TOKEN } from './api-kit.ts';

describe('the bearer token', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const clock = jumpingClock();

  before(async () => {
    ws = await workspace();
    api = await startApi(ws, { clock });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('is required on every /api route: 401 without it or with a wrong one', async () => {
    const apiRoutes = ROUTES.filter((route) => route.url.startsWith('/api/'));
    assert.ok(apiRoutes.length >= 14, 'every REST operation is checked');
    for (const route of apiRoutes) {
      const url = route.url.replace(':name', 'x').replace(':id', 'y');
      const none = await api.app.inject({ method: route.method, url, remoteAddress: '10.9.0.1' });
      assert.equal(none.statusCode, 401, `${route.method} ${url} without a token`);
      assert.equal(none.json().error, 'UNAUTHORIZED');
      const wrong = await api.app.inject({
        method: route.method,
        url,
        headers: { authorization: 'Bearer nope' },
        remoteAddress: `10.9.1.${apiRoutes.indexOf(route)}`,
      });
      assert.equal(wrong.statusCode, 401, `${route.method} ${url} with a wrong token`);
      const basic = await api.app.inject({
        method: route.method,
        url,
        headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
        remoteAddress: '10.9.0.1',
      });
      assert.equal(basic.statusCode, 401, 'only a bearer token counts');
    }
    const ok = await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH });
    assert.equal(ok.statusCode, 200);
  });

  it('is not needed for /healthz, /metrics, the OpenAPI document, the docs and the UI page', async () => {
    for (const url of ['/healthz', '/metrics', '/openapi.json', '/docs', '/']) {
      const response = await api.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
    }
  });

  it('compares tokens of any length without throwing', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches('', TOKEN), false);
    assert.equal(tokenMatches(`${TOKEN}x`, TOKEN), false);
    assert.equal(tokenMatches('x'.repeat(10_000), TOKEN), false);
  });

  it("blocks an address's wrong tokens after repeated ones, until the window passes, but never the right one", async () => {
    const attacker = '10.7.7.7';
    for (let i = 0; i < MAX_FAILURES; i++) {
      const response = await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer guess-${i}` }, remoteAddress: attacker });
      assert.equal(response.statusCode, 401);
    }
    const blocked = await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer one-more-guess' }, remoteAddress: attacker });
    assert.equal(blocked.statusCode, 429);
    assert.equal(blocked.json().error, 'TOO_MANY_ATTEMPTS');
    assert.ok(Number(blocked.headers['retry-after']) > 0, 'says when to try again');
    const withoutToken = await api.app.inject({ method: 'GET', url: '/api/status', remoteAddress: attacker });
    assert.equal(withoutToken.statusCode, 429, 'no token is no way around the block');

    // Everyone behind one NAT or reverse proxy shares the address: the operator still gets in.
    const operator = await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH, remoteAddress: attacker });
    assert.equal(operator.statusCode, 200, 'the right token is accepted from a blocked address');
    const stillBlocked = await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer guess-after' }, remoteAddress: attacker });
    assert.equal(stillBlocked.statusCode, 429, 'and does not lift the block for the guesses');

    const someoneElse = await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer typo' }, remoteAddress: '10.7.7.8' });
    assert.equal(someoneElse.statusCode, 401, 'other addresses are not affected');

    clock.jump(WINDOW_MS + 1_000);
    const later = await api.app.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer typo' }, remoteAddress: attacker });
    assert.equal(later.statusCode, 401, 'tried again after the window');
  });

  it('works the same over a real socket', async () => {
    const address = await api.app.listen({ host: '127.0.0.1', port: 0 });
    const none = await fetch(`${address}/api/connections`);
    assert.equal(none.status, 401);
    const good = await fetch(`${address}/api/connections`, { headers: AUTH });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), []);
    assert.equal(good.headers.get('access-control-allow-origin'), null, 'CORS is off');
    const preflight = await fetch(`${address}/api/connections`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null, 'no preflight grants another origin');
  });
});
