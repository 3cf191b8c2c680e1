import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';

describe('API users get the warnings validate gives for the config file', () => {
  let ws: Workspace;
  let api: ApiHarness;
  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('says when a password would travel unencrypted or the certificate is not checked', async () => {
    const plain = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { name: 'plain', hostType: 'imap', host: '127.0.0.1', useSsl: false, username: 'u', password: 'p' },
    });
    assert.equal(plain.statusCode, 201, plain.body);
    assert.ok(
      (plain.json().warnings as string[]).some((w) => /password travels unencrypted/.test(w)),
      plain.body,
    );
    const unchecked = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { name: 'unchecked', hostType: 'imap', host: '127.0.0.1', username: 'u', password: 'p', tls: { rejectUnauthorized: false } },
    });
    assert.ok(
      (unchecked.json().warnings as string[]).some((w) => /certificate is not checked/.test(w)),
      unchecked.body,
    );
    const safe = await api.app.inject({ method: 'GET', url: '/api/connections/unchecked', headers: AUTH });
    assert.equal(safe.json().warnings.length, 1, 'GET shows them too');
    const fine = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { name: 'fine', hostType: 'imap', host: '127.0.0.1', username: 'u', password: 'p' },
    });
    assert.deepEqual(fine.json().warnings, []);
  });
});
