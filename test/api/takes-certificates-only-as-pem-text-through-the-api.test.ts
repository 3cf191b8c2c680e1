/**
 * Through the API, tls.ca (and a Graph certificate's privateKey) is PEM text: a path would let an
 * API user make Postroom open any file it can read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, startApi, type ApiHarness } from './api-kit.ts';
import { workspace, type Workspace } from '../support/postroom.ts';

describe('certificates through the API', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const imap = { name: 'pem', hostType: 'imap', host: '127.0.0.1', port: 9, username: 'u', password: 'pw' };

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('refuses a tls.ca path on create, update and check, saying to give PEM text', async () => {
    for (const [method, url] of [
      ['POST', '/api/connections'],
      ['POST', '/api/connections/pem/check'],
    ] as const) {
      const response = await api.app.inject({ method, url, headers: AUTH, payload: { ...imap, tls: { ca: '/etc/passwd' } } });
      assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
      assert.equal(response.json().issues[0].path, 'tls.ca');
      assert.match(response.json().issues[0].message, /PEM text.*only read from postroom\.yaml/);
    }
    assert.equal((await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: imap })).statusCode, 201);
    const put = await api.app.inject({ method: 'PUT', url: '/api/connections/pem', headers: AUTH, payload: { ...imap, tls: { ca: '/etc/hostname' } } });
    assert.equal(put.statusCode, 400);
    assert.equal(put.json().issues[0].path, 'tls.ca');
  });

  it('refuses a certificate.privateKey path', async () => {
    const graph = { name: 'cert', hostType: 'graph', tenantId: 't', clientId: 'c', mailbox: 'm@example.com', certificate: { thumbprint: 'AB12', privateKey: '/etc/ssl/private/key.pem' } };
    const response = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: graph });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().issues[0].path, 'certificate.privateKey');
  });
});
