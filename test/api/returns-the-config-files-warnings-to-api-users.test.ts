/**
 * The warnings `postroom validate` prints for a connection (a password without TLS, certificate
 * checks off, POP3's ignored deleteMessages) come back in the API's create, update and check
 * answers too, and the OpenAPI document says so.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MUTATE, startApi, type ApiHarness } from './api-kit.ts';
import { workspace, type Workspace } from '../support/postroom.ts';

describe('warnings for API users', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const plain = { name: 'plain', hostType: 'pop3', host: '127.0.0.1', port: 9, useSsl: false, username: 'u', password: 'pw', deleteMessages: false };

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('warns on create, update and check, in the words of postroom validate', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: MUTATE, payload: plain });
    assert.equal(created.statusCode, 201, created.body);
    assert.deepEqual(created.json().warnings, [
      'deleteMessages: POP3 always deletes emails after pickup (the protocol has no read flag); the setting is ignored',
      'useSsl and startTls are off, so the password travels unencrypted',
    ]);
    const updated = await api.app.inject({ method: 'PUT', url: '/api/connections/plain', headers: MUTATE, payload: { ...plain, deleteMessages: true, useSsl: true, port: 9, password: 'pw', tls: { rejectUnauthorized: false } } });
    assert.equal(updated.statusCode, 200, updated.body);
    assert.deepEqual(updated.json().warnings, ["tls.rejectUnauthorized is off, so the server's certificate is not checked"]);
    const checked = await api.app.inject({ method: 'POST', url: '/api/connections/plain/check', headers: MUTATE, payload: plain });
    assert.equal(checked.statusCode, 200, checked.body);
    assert.ok(checked.json().warnings.includes('useSsl and startTls are off, so the password travels unencrypted'));
    const safe = await api.app.inject({ method: 'POST', url: '/api/connections', headers: MUTATE, payload: { ...plain, name: 'safe', useSsl: true, deleteMessages: true } });
    assert.deepEqual(safe.json().warnings, []);
  });

  it('shows warnings in the OpenAPI document', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(document.components.schemas.CheckResult.properties.warnings.type, 'array');
    assert.equal(document.components.schemas.Connection.properties.warnings.type, 'array');
  });
});
