import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi, TOKEN } from './api-kit.ts';

const connection = { name: 'probe', hostType: 'imap', port: 22, username: 'u', password: 'pw', destination: 'out' };

describe('API connections reach only the hosts and files the config allows', () => {
  let ws: Workspace;
  let api: ApiHarness;
  before(async () => {
    ws = await workspace();
    api = await startApi(ws, { extra: { api: { token: TOKEN } } });
  });
  after(async () => {
    await api?.close();
    await ws?.dispose();
  });

  it('refuses loopback, link-local and private hosts by default, naming the setting that allows them', async () => {
    for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '192.168.1.1', '169.254.169.254', '::1']) {
      for (const [method, url] of [
        ['POST', '/api/connections'],
        ['POST', '/api/connections/probe/check'],
      ] as const) {
        const response = await api.app.inject({ method, url, headers: AUTH, payload: { ...connection, host } });
        assert.equal(response.statusCode, 400, `${method} ${url} ${host}: ${response.body}`);
        const issue = (response.json().issues as Array<{ path: string; message: string }>)[0];
        assert.equal(issue?.path, 'host');
        assert.match(issue?.message ?? '', /api\.allowPrivateHosts/);
      }
    }
    const oauth = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: { ...connection, host: '203.0.113.7', password: undefined, oauth2: { clientId: 'c', refreshToken: 'r', tokenUrl: 'http://127.0.0.1:9/token' } },
    });
    assert.equal(oauth.statusCode, 400);
    assert.equal(oauth.json().issues[0].path, 'oauth2.tokenUrl');
    assert.equal(await api.opened.store.getManagedConnection('probe'), undefined, 'nothing was saved');
  });

  it('takes only PEM text for tls.ca through the API, never a path to read', async () => {
    for (const ca of ['/dev/zero', '/etc/shadow', './ca.pem']) {
      const response = await api.app.inject({
        method: 'POST',
        url: '/api/connections/probe/check',
        headers: AUTH,
        payload: { ...connection, host: '203.0.113.7', tls: { ca } },
      });
      assert.equal(response.statusCode, 400, `${ca}: ${response.body}`);
      const issue = (response.json().issues as Array<{ path: string; message: string }>).find((i) => i.path === 'tls.ca');
      assert.match(issue?.message ?? '', /PEM text/);
    }
  });

  it('keeps API connections to api.allowHosts when it is set', async () => {
    const limited = await workspace();
    const other = await startApi(limited, { extra: { api: { token: TOKEN, allowPrivateHosts: true, allowHosts: ['*.example.com', '127.0.0.1'] } } });
    try {
      const refused = await other.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: { ...connection, host: 'mail.example.org' } });
      assert.equal(refused.statusCode, 400);
      assert.match(refused.json().issues[0].message, /api\.allowHosts/);
      const allowed = await other.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: { ...connection, host: '127.0.0.1' } });
      assert.equal(allowed.statusCode, 201, allowed.body);
    } finally {
      await other.close();
      await limited.dispose();
    }
  });

  it('reads a CA file named in postroom.yaml only when it is a regular file of CA size', async () => {
    const fifo = join(ws.dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [ca, expected] of [
      [fifo, /not a regular file/],
      ['/dev/zero', /not a regular file/],
      [ws.dir, /not a regular file/],
      ['missing-ca.pem', /cannot read the CA file .*missing-ca\.pem \(ENOENT\)/],
    ] as const) {
      const file = join(ws.dir, 'postroom.yaml');
      await writeFile(
        file,
        `destinations:\n  out: { type: directory, path: ./out }\nconnections:\n  - { name: a, hostType: imap, host: mail.example.com, username: u, password: p, tls: { ca: "${ca}" } }\n`,
      );
      assert.throws(
        () => loadConfig(file),
        (error: Error) => {
          assert.match(error.message, /connections\[0\]\.tls\.ca/);
          assert.match(error.message, expected);
          return true;
        },
      );
    }
  });
});
