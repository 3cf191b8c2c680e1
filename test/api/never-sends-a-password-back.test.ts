import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { SecretBox } from '../../src/store/secret-box.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, MUTATE, startApi } from './api-kit.ts';

const PASSWORD = 'Pw-never-echo-5c1e';
const FILE_PASSWORD = 'Pw-file-never-echo-77aa';
const OAUTH_SECRET = 'Oauth-secret-never-echo-e3';

describe('secrets are write-only', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const bodies: Array<{ what: string; body: string }> = [];
  const send = async (what: string, options: InjectOptions): Promise<LightMyRequestResponse> => {
    const response = await api.app.inject(options);
    bodies.push({ what, body: `${JSON.stringify(response.headers)}\n${response.body}` });
    return response;
  };

  before(async () => {
    ws = await workspace();
    api = await startApi(ws, {
      connections: [{ name: 'from-file', hostType: 'imap', host: '127.0.0.1', port: 9, username: 'f', password: FILE_PASSWORD, destination: 'out' }],
    });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('never returns a password or secret in any response', async () => {
    const connection = { name: 'secret', hostType: 'imap', host: '127.0.0.1', port: 9, username: 'u', password: PASSWORD };
    await send('create', { method: 'POST', url: '/api/connections', headers: AUTH, payload: connection });
    await send('create oauth2', {
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: {
        ...connection,
        name: 'oauth',
        password: undefined,
        oauth2: { clientId: 'c', clientSecret: OAUTH_SECRET, tokenUrl: 'https://login.example.com/token' },
      },
    });
    await send('create invalid', {
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { ...connection, name: 'bad', port: 'x', colour: PASSWORD },
    });
    await send('create invalid password type', {
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { ...connection, name: 'bad2', password: { nested: PASSWORD } },
    });
    await send('duplicate', { method: 'POST', url: '/api/connections', headers: AUTH, payload: connection });
    await send('list', { method: 'GET', url: '/api/connections', headers: AUTH });
    await send('get', { method: 'GET', url: '/api/connections/secret', headers: AUTH });
    await send('get oauth', { method: 'GET', url: '/api/connections/oauth', headers: AUTH });
    await send('get file', { method: 'GET', url: '/api/connections/from-file', headers: AUTH });
    await send('put', { method: 'PUT', url: '/api/connections/secret', headers: AUTH, payload: { ...connection, password: undefined, host: 'localhost' } });
    await send('put invalid', { method: 'PUT', url: '/api/connections/secret', headers: AUTH, payload: { ...connection, port: 0 } });
    await send('disable', { method: 'POST', url: '/api/connections/secret/disable', headers: MUTATE });
    await send('enable', { method: 'POST', url: '/api/connections/secret/enable', headers: MUTATE });
    const check = await send('check saved', { method: 'POST', url: '/api/connections/secret/check', headers: MUTATE });
    assert.equal(check.json().ok, false, 'nothing listens on port 9');
    await send('check body', { method: 'POST', url: '/api/connections/secret/check', headers: AUTH, payload: { ...connection, password: undefined } });
    await send('check file', { method: 'POST', url: '/api/connections/from-file/check', headers: MUTATE });
    await send('status', { method: 'GET', url: '/api/status', headers: AUTH });
    await send('destinations', { method: 'GET', url: '/api/destinations', headers: AUTH });
    await send('dead letters', { method: 'GET', url: '/api/dead-letters', headers: AUTH });
    await send('metrics', { method: 'GET', url: '/metrics' });
    await send('openapi', { method: 'GET', url: '/openapi.json' });
    await send('healthz', { method: 'GET', url: '/healthz' });
    await send('ui', { method: 'GET', url: '/' });
    await send('delete', { method: 'DELETE', url: '/api/connections/oauth', headers: MUTATE });

    assert.ok(bodies.length >= 24);
    for (const { what, body } of bodies) {
      for (const secret of [PASSWORD, FILE_PASSWORD, OAUTH_SECRET]) assert.ok(!body.includes(secret), `${what}: the response contains a secret`);
    }
    const view = JSON.parse(
      bodies
        .find((b) => b.what === 'get')!
        .body.split('\n')
        .slice(1)
        .join('\n'),
    );
    assert.equal(view.passwordSet, true, 'says a password is stored');
    assert.equal('password' in view, false);
    assert.equal(
      SecretBox.fromEnv().open(String((await api.opened.store.getManagedConnection('secret'))?.config.password)),
      PASSWORD,
      'the PUT without a password kept it',
    );
  });
});
