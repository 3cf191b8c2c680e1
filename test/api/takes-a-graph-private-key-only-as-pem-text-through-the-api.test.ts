/**
 * Through the API, a Graph certificate's privateKey is PEM text: a path would let an API user make
 * Postroom open any file it can read (as tls.ca already is).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, MUTATE, startApi } from './api-kit.ts';

describe('a Graph certificate through the API', () => {
  let ws: Workspace;
  let api: ApiHarness;
  const graph = {
    name: 'cert',
    hostType: 'graph',
    tenantId: 't',
    clientId: 'c',
    mailbox: 'm@example.com',
    certificate: { thumbprint: 'AB12', privateKey: '/etc/ssl/private/key.pem' },
  };

  before(async () => {
    ws = await workspace();
    api = await startApi(ws);
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('refuses a privateKey path on create and check, saying to give PEM text', async () => {
    for (const url of ['/api/connections', '/api/connections/cert/check']) {
      const response = await api.app.inject({ method: 'POST', url, headers: MUTATE, payload: graph });
      assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
      assert.equal(response.json().issues[0].path, 'certificate.privateKey');
      assert.match(response.json().issues[0].message, /PEM text.*only from postroom\.yaml/);
    }
  });
});
