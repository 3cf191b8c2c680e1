import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretBox } from '../../src/store/secret-box.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, MUTATE, startApi } from './api-kit.ts';

const orders = { name: 'orders', hostType: 'imap', host: 'imap.example.com', username: 'orders@example.com', password: 'pw-orders-1', pollingInterval: '2m' };

describe('connections through the REST API', () => {
  let ws: Workspace;
  let api: ApiHarness;

  before(async () => {
    ws = await workspace();
    api = await startApi(ws, {
      connections: [{ name: 'from-file', hostType: 'imap', host: 'file.example.com', username: 'f', password: 'pw-file', destination: 'out' }],
    });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('creates a connection, filling in the defaults, and lists it beside the config file ones', async () => {
    const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: orders });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers.location, '/api/connections/orders');
    const view = created.json();
    assert.equal(view.port, 993, 'IMAP over SSL defaults to 993');
    assert.equal(view.folder, 'INBOX');
    assert.equal(view.destination, 'out', 'the only destination is the default');
    assert.equal(view.pollingInterval, '2m');
    assert.equal(view.source, 'api');
    assert.equal(view.passwordSet, true);

    const list = await api.app.inject({ method: 'GET', url: '/api/connections', headers: AUTH });
    assert.deepEqual(
      list.json().map((c: { name: string; source: string; readOnly: boolean }) => [c.name, c.source, c.readOnly]),
      [
        ['from-file', 'config', true],
        ['orders', 'api', false],
      ],
    );
    assert.deepEqual(
      api.connections.all().map((c) => c.name),
      ['from-file', 'orders'],
      'the worker sees it',
    );
  });

  it('refuses a second connection with the same name, and one named like a config file connection', async () => {
    const again = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: orders });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error, 'CONNECTION_EXISTS');
    const clash = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: { ...orders, name: 'from-file' } });
    assert.equal(clash.statusCode, 400);
    assert.equal(clash.json().issues[0].path, 'name');
  });

  it('replaces the settings with PUT and keeps the stored password when none is sent', async () => {
    const { password: _left, ...withoutPassword } = orders;
    // A saved password goes only to the server it was saved for: a new host needs it again.
    const moved = await api.app.inject({
      method: 'PUT',
      url: '/api/connections/orders',
      headers: AUTH,
      payload: { ...withoutPassword, host: 'imap2.example.com', useSsl: false },
    });
    assert.equal(moved.statusCode, 400, moved.body);
    assert.equal(moved.json().issues[0].path, 'password');
    const first = await api.app.inject({
      method: 'PUT',
      url: '/api/connections/orders',
      headers: AUTH,
      payload: { ...orders, host: 'imap2.example.com', useSsl: false },
    });
    assert.equal(first.statusCode, 200, first.body);
    const put = await api.app.inject({
      method: 'PUT',
      url: '/api/connections/orders',
      headers: AUTH,
      payload: { ...withoutPassword, host: 'imap2.example.com', useSsl: false },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().host, 'imap2.example.com');
    assert.equal(put.json().port, 143, 'IMAP without SSL defaults to 143');
    assert.equal(put.json().passwordSet, true);
    const stored = await api.opened.store.getManagedConnection('orders');
    assert.equal(SecretBox.fromEnv().open(String(stored?.config.password)), 'pw-orders-1', 'the stored password is kept');
    const polled = api.connections.all().find((c) => c.name === 'orders');
    assert.equal(polled?.hostType === 'imap' ? polled.host : undefined, 'imap2.example.com', 'the worker polls the new settings');
    assert.equal(polled?.hostType === 'imap' ? polled.password : undefined, 'pw-orders-1', 'with the kept password');

    const renamed = await api.app.inject({ method: 'PUT', url: '/api/connections/orders', headers: AUTH, payload: { ...orders, name: 'other' } });
    assert.equal(renamed.statusCode, 400);
    assert.equal(renamed.json().issues[0].path, 'name');
  });

  it('keeps config file connections read-only', async () => {
    for (const [method, url] of [
      ['PUT', '/api/connections/from-file'],
      ['DELETE', '/api/connections/from-file'],
      ['POST', '/api/connections/from-file/disable'],
    ] as const) {
      const response = await api.app.inject({ method, url, headers: MUTATE, ...(method === 'PUT' ? { payload: { ...orders, name: 'from-file' } } : {}) });
      assert.equal(response.statusCode, 409, `${method} ${url}`);
      assert.equal(response.json().error, 'CONNECTION_READ_ONLY');
    }
  });

  it('disables and enables a stored connection', async () => {
    const off = await api.app.inject({ method: 'POST', url: '/api/connections/orders/disable', headers: MUTATE });
    assert.equal(off.json().enabled, false);
    assert.equal(api.connections.all().find((c) => c.name === 'orders')?.enabled, false, 'the worker skips it');
    const on = await api.app.inject({ method: 'POST', url: '/api/connections/orders/enable', headers: MUTATE });
    assert.equal(on.json().enabled, true);
  });

  it('still has the connection after a restart, and forgets it once deleted', async () => {
    await api.close();
    api = await startApi(ws, {
      connections: [{ name: 'from-file', hostType: 'imap', host: 'file.example.com', username: 'f', password: 'pw-file', destination: 'out' }],
    });
    const got = await api.app.inject({ method: 'GET', url: '/api/connections/orders', headers: AUTH });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().host, 'imap2.example.com');
    assert.ok(
      api.connections.all().some((c) => c.name === 'orders'),
      'a restarted worker polls it',
    );

    const deleted = await api.app.inject({ method: 'DELETE', url: '/api/connections/orders', headers: MUTATE });
    assert.equal(deleted.statusCode, 204);
    const gone = await api.app.inject({ method: 'GET', url: '/api/connections/orders', headers: AUTH });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error, 'CONNECTION_NOT_FOUND');
    assert.equal(await api.opened.store.getManagedConnection('orders'), undefined);
  });
});
