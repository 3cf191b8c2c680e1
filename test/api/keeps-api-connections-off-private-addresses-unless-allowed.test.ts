/**
 * A connection made or tested through the API may not reach loopback, link-local or private
 * addresses (by name or by resolving the name) unless api.allowPrivateHosts is on, and only the
 * names in api.allowHosts when that is set. postroom.yaml's own connections are not held to it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, TOKEN, startApi, type ApiHarness } from './api-kit.ts';
import { startCatcher, type Catcher } from './catcher.ts';
import { workspace, type Workspace } from '../support/postroom.ts';

describe('the host policy for API connections', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let server: Catcher;
  const imap = (host: string, extra: object = {}) => ({ name: 'probe', hostType: 'imap', host, port: 22, useSsl: false, username: 'u', password: 'pw', ...extra });

  before(async () => {
    ws = await workspace();
    server = await startCatcher('pop3');
    api = await startApi(ws, {
      extra: { api: { token: TOKEN } },
      connections: [{ name: 'from-file', hostType: 'pop3', host: '127.0.0.1', port: server.port, useSsl: false, username: 'f', password: 'pw', destination: 'out' } as never],
    });
  });
  after(async () => {
    await api?.close();
    await server?.close();
    await ws?.dispose();
  });

  it('refuses loopback, private and link-local addresses, by address or by name', async () => {
    for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', '[fe80::1]', '::ffff:127.0.0.1', 'fd00::5', '0.0.0.0']) {
      for (const url of ['/api/connections', '/api/connections/probe/check']) {
        const response = await api.app.inject({ method: 'POST', url, headers: AUTH, payload: imap(host) });
        assert.equal(response.statusCode, 400, `${url} ${host}: ${response.body}`);
        assert.equal(response.json().issues[0].path, 'host');
        assert.match(response.json().issues[0].message, /api\.allowPrivateHosts: true/);
      }
    }
    assert.equal(server.received(), '', 'nothing was sent anywhere');
  });

  it('refuses a token endpoint or Graph authority on a private address', async () => {
    const oauth = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: imap('93.184.215.14', { password: undefined, oauth2: { tokenUrl: 'http://127.0.0.1:8080/token', clientId: 'c', refreshToken: 'r' } }) });
    assert.equal(oauth.statusCode, 400, oauth.body);
    assert.equal(oauth.json().issues[0].path, 'oauth2.tokenUrl');
    const graph = await api.app.inject({ method: 'POST', url: '/api/connections/g/check', headers: AUTH, payload: { hostType: 'graph', tenantId: 't', clientId: 'c', clientSecret: 's', mailbox: 'm@example.com', authorityHost: 'http://169.254.169.254' } });
    assert.equal(graph.statusCode, 400, graph.body);
    assert.equal(graph.json().issues[0].path, 'authorityHost');
  });

  it('still checks a postroom.yaml connection on loopback', async () => {
    const response = await api.app.inject({ method: 'POST', url: '/api/connections/from-file/check', headers: AUTH });
    assert.equal(response.statusCode, 200, response.body);
  });

  it('takes only the names in api.allowHosts when it is set', async () => {
    await api.close();
    api = await startApi(ws, { extra: { api: { token: TOKEN, allowPrivateHosts: true, allowHosts: ['*.example.com', '127.0.0.1'] } } });
    const other = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: imap('imap.example.org') });
    assert.equal(other.statusCode, 400, other.body);
    assert.match(other.json().issues[0].message, /not in api\.allowHosts/);
    const listed = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: imap('IMAP.Example.com') });
    assert.equal(listed.statusCode, 201, listed.body);
    const loopback = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: { ...imap('127.0.0.1'), name: 'local' } });
    assert.equal(loopback.statusCode, 201, 'allowed by api.allowPrivateHosts and listed');
  });
});
