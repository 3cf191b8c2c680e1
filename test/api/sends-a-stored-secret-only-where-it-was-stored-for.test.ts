/**
 * A check or an update that changes where a connection goes (host, port, TLS, Graph's
 * authorityHost, the oauth2 tokenUrl) must not take the stored secrets along: a listener on
 * loopback stands in for the new target and must receive none of them.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { AUTH, startApi, type ApiHarness } from './api-kit.ts';
import { startCatcher, type Catcher } from './catcher.ts';
import { workspace, type Workspace } from '../support/postroom.ts';

const FILE_PASSWORD = 'Pw-file-stays-home-1a';
const PASSWORD = 'Pw-stored-stays-home-2b';
const GRAPH_SECRET = 'Graph-secret-stays-home-3c';
const OAUTH_SECRET = 'Oauth-secret-stays-home-4d';
const REFRESH_TOKEN = 'Refresh-token-stays-home-5e';
const SECRETS = [FILE_PASSWORD, PASSWORD, GRAPH_SECRET, OAUTH_SECRET, REFRESH_TOKEN];

describe('stored secrets and a changed target', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let home: Catcher;
  let evil: Catcher;
  let evilHttp: Catcher;
  const homeServer = () => ({ hostType: 'pop3', host: '127.0.0.1', port: home.port, useSsl: false, username: 'u' });
  const check = (name: string, payload?: object) => api.app.inject({ method: 'POST', url: `/api/connections/${name}/check`, headers: AUTH, ...(payload ? { payload } : {}) });

  before(async () => {
    ws = await workspace();
    home = await startCatcher('pop3');
    evil = await startCatcher('pop3');
    evilHttp = await startCatcher('http');
    api = await startApi(ws, { connections: [{ ...homeServer(), name: 'from-file', password: FILE_PASSWORD, destination: 'out' } as never] });
    for (const payload of [
      { ...homeServer(), name: 'stored', password: PASSWORD },
      { hostType: 'graph', name: 'graph', tenantId: 't1', clientId: 'c1', clientSecret: GRAPH_SECRET, mailbox: 'intake@example.com' },
      { ...homeServer(), name: 'oauth', oauth2: { tokenUrl: 'https://login.example.com/token', clientId: 'c', clientSecret: OAUTH_SECRET, refreshToken: REFRESH_TOKEN } },
    ]) {
      const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload });
      assert.equal(created.statusCode, 201, created.body);
    }
  });
  afterEach(() => {
    for (const catcher of [home, evil, evilHttp]) catcher.clear();
  });
  after(async () => {
    await api?.close();
    await Promise.all([home?.close(), evil?.close(), evilHttp?.close()]);
    await ws?.dispose();
  });

  const assertNothingCaught = () => {
    for (const secret of SECRETS) {
      assert.ok(!evil.received().includes(secret), `the new host received ${secret}`);
      assert.ok(!evilHttp.received().includes(secret), `the new token endpoint received ${secret}`);
    }
  };

  it('never merges a config file connection\'s password into a check body', async () => {
    const response = await check('from-file', { ...homeServer(), port: evil.port });
    assertNothingCaught();
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().issues[0].path, 'password');
    assert.match(response.json().issues[0].message, /postroom\.yaml/);
  });

  it('asks for the password again when a check or an update changes the host or port', async () => {
    const checked = await check('stored', { ...homeServer(), port: evil.port });
    assertNothingCaught();
    assert.equal(checked.statusCode, 400, checked.body);
    assert.equal(checked.json().issues[0].path, 'password');
    assert.match(checked.json().issues[0].message, /port changed/);

    const put = await api.app.inject({ method: 'PUT', url: '/api/connections/stored', headers: AUTH, payload: { ...homeServer(), port: evil.port } });
    assert.equal(put.statusCode, 400, put.body);
    assert.match(put.json().issues[0].message, /port changed/);
    const kept = api.connections.get('stored')?.config;
    assert.equal(kept?.hostType === 'pop3' ? kept.port : undefined, home.port, 'the stored connection is unchanged');

    const tls = await check('stored', { ...homeServer(), port: evil.port, useSsl: false, startTls: true });
    assert.equal(tls.statusCode, 400);
    assertNothingCaught();
  });

  it('keeps a Graph client secret away from a new authorityHost', async () => {
    const response = await check('graph', { hostType: 'graph', tenantId: 't1', clientId: 'c1', mailbox: 'intake@example.com', authorityHost: evilHttp.url });
    assertNothingCaught();
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().issues[0].path, 'clientSecret');
    assert.match(response.json().issues[0].message, /authorityHost changed/);
  });

  it('keeps a refresh token and its client secret away from a new tokenUrl', async () => {
    const response = await check('oauth', { ...homeServer(), oauth2: { tokenUrl: `${evilHttp.url}/token`, clientId: 'c' } });
    assertNothingCaught();
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json().issues.map((i: { path: string }) => i.path).sort(), ['oauth2.clientSecret', 'oauth2.refreshToken']);
    assert.match(response.json().issues[0].message, /oauth2\.tokenUrl changed/);
  });

  it('still uses the stored password when the target is unchanged', async () => {
    const saved = await check('stored');
    assert.equal(saved.statusCode, 200, saved.body);
    assert.ok(home.received().includes(`PASS ${PASSWORD}`), 'the saved connection logs in with its password');

    const sameTarget = await check('stored', { ...homeServer(), port: home.port, useSsl: false, tls: { rejectUnauthorized: true } });
    assert.equal(sameTarget.statusCode, 200, sameTarget.body);

    const put = await api.app.inject({ method: 'PUT', url: '/api/connections/stored', headers: AUTH, payload: { ...homeServer(), pollingInterval: '5m' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().passwordSet, true);
    const kept = api.connections.get('stored')?.config;
    assert.equal(kept?.hostType === 'pop3' ? kept.password : undefined, PASSWORD, 'the PUT without a password kept it');
    assertNothingCaught();
  });
});
