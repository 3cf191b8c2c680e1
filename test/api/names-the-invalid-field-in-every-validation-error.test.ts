import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';

const valid = { name: 'orders', hostType: 'imap', host: 'imap.example.com', username: 'orders@example.com', password: 'pw-1' };

describe('validation errors name the field', () => {
  let ws: Workspace;
  let api: ApiHarness;

  before(async () => {
    ws = await workspace();
    api = await startApi(ws, {
      extra: { destinations: { out: { type: 'directory', path: '/tmp/unused-a' }, archive: { type: 'directory', path: '/tmp/unused-b' } } },
    });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  const cases: Array<{ title: string; body: unknown; path: string; message?: RegExp }> = [
    { title: 'a port out of range', body: { ...valid, destination: 'out', port: 70000 }, path: 'port' },
    { title: 'a port that is not a number', body: { ...valid, destination: 'out', port: 'nine' }, path: 'port' },
    { title: 'an unknown host type', body: { ...valid, destination: 'out', hostType: 'smtp' }, path: 'hostType', message: /imap, pop3, graph/ },
    { title: 'a missing host', body: { ...valid, destination: 'out', host: undefined }, path: 'host' },
    { title: 'no password and no oauth2', body: { ...valid, destination: 'out', password: undefined }, path: 'password', message: /password/ },
    { title: 'a bad polling interval', body: { ...valid, destination: 'out', pollingInterval: 'soon' }, path: 'pollingInterval', message: /duration/ },
    { title: 'a bad name', body: { ...valid, destination: 'out', name: '-x' }, path: 'name' },
    { title: 'an unknown field', body: { ...valid, destination: 'out', colour: 'red' }, path: '', message: /colour/ },
    { title: 'no destination when there are two', body: valid, path: 'destination', message: /out, archive/ },
    { title: 'an undefined destination', body: { ...valid, destination: 'nowhere' }, path: 'destination', message: /nowhere/ },
    {
      title: 'a route to an undefined destination',
      body: { ...valid, destination: 'out', routes: [{ when: { kind: 'body' }, destination: 'bodies' }] },
      path: 'routes[0].destination',
      message: /no destination is named "bodies"; defined: out, archive/,
    },
    {
      title: 'a filter regex that does not compile',
      body: { ...valid, destination: 'out', filter: { subject: '/(x/' } },
      path: 'filter.subject',
      message: /not a regular expression/,
    },
    { title: 'a nested TLS field', body: { ...valid, destination: 'out', tls: { rejectUnauthorized: 'yes' } }, path: 'tls.rejectUnauthorized' },
  ];

  for (const { title, body, path, message } of cases) {
    it(`answers 400 naming "${path || '(the object)'}" for ${title}`, async () => {
      const response = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: body as object });
      assert.equal(response.statusCode, 400, response.body);
      const payload = response.json() as { error: string; issues: Array<{ path: string; message: string }> };
      assert.equal(payload.error, 'CONFIG_INVALID');
      const issue = payload.issues.find((i) => i.path === path);
      assert.ok(issue, `an issue at "${path}" in ${JSON.stringify(payload.issues)}`);
      if (message) assert.match(issue.message, message);
    });
  }

  it('answers 400 for a body that is not JSON, and 413 for one over the size limit', async () => {
    const broken = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    assert.equal(broken.statusCode, 400);
    assert.ok(broken.json().error);
    const huge = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { ...valid, destination: 'out', tls: { ca: 'x'.repeat(300 * 1024) } },
    });
    assert.equal(huge.statusCode, 413);
  });

  it('stores nothing when validation fails', async () => {
    assert.deepEqual(await api.opened.store.listManagedConnections(), []);
  });
});
