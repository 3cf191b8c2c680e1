import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';

const FILE_PASSWORD = 'File-pw-never-leaves-9d2e';
const API_PASSWORD = 'Api-pw-never-leaves-41bc';
const GRAPH_SECRET = 'Graph-secret-never-leaves-77f0';
const REFRESH_TOKEN = 'Refresh-token-never-leaves-0aa3';
const OAUTH_SECRET = 'Oauth-secret-never-leaves-c5d1';
const SECRETS = [FILE_PASSWORD, API_PASSWORD, GRAPH_SECRET, REFRESH_TOKEN, OAUTH_SECRET];

/**
 * An attacker's listener: answers like an IMAP server (so a client would go on to LOGIN) and,
 * for HTTP, just records the request. Everything it receives is kept.
 */
async function listener(): Promise<{ server: Server; port: number; received: () => string }> {
  let received = '';
  const server = createServer((socket: Socket) => {
    socket.write('* OK [CAPABILITY IMAP4rev1] ready\r\n');
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      for (const line of chunk.toString('latin1').split('\r\n')) {
        const tag = line.split(' ')[0];
        if (!tag || line.startsWith('POST') || line.startsWith('GET')) continue;
        if (/ CAPABILITY/i.test(line)) socket.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
        else socket.write(`${tag} OK done\r\n`);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, received: () => received };
}

describe('a saved secret is only ever sent to the server it was saved for', () => {
  let ws: Workspace;
  let api: ApiHarness;
  let trap: Awaited<ReturnType<typeof listener>>;
  const imapSaved = { hostType: 'imap', host: '127.0.0.1', port: 9, useSsl: false, username: 'u', connectTimeout: '2s' };

  before(async () => {
    ws = await workspace();
    trap = await listener();
    api = await startApi(ws, { connections: [{ name: 'from-file', ...imapSaved, password: FILE_PASSWORD, destination: 'out' } as never] });
    const create = async (payload: Record<string, unknown>): Promise<void> => {
      const response = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload });
      assert.equal(response.statusCode, 201, response.body);
    };
    await create({ name: 'stored', ...imapSaved, password: API_PASSWORD });
    await create({
      name: 'stored-oauth',
      ...imapSaved,
      oauth2: { clientId: 'c', clientSecret: OAUTH_SECRET, refreshToken: REFRESH_TOKEN, tokenUrl: 'http://127.0.0.1:9/token' },
    });
    await create({
      name: 'stored-graph',
      hostType: 'graph',
      tenantId: 't',
      clientId: 'c',
      clientSecret: GRAPH_SECRET,
      mailbox: 'm@example.com',
      authorityHost: 'http://127.0.0.1:9',
      graphEndpoint: 'http://127.0.0.1:9',
    });
  });
  after(async () => {
    await api?.close();
    trap?.server.close();
    await ws?.dispose();
  });

  const attempts = (): Array<{ what: string; url: string; method: 'POST' | 'PUT'; payload: Record<string, unknown>; secretField: string }> => [
    {
      what: 'check a postroom.yaml connection against another host',
      method: 'POST',
      url: '/api/connections/from-file/check',
      payload: { ...imapSaved, port: trap.port },
      secretField: 'password',
    },
    {
      what: 'check a postroom.yaml connection, same host',
      method: 'POST',
      url: '/api/connections/from-file/check',
      payload: { ...imapSaved },
      secretField: 'password',
    },
    {
      what: 'check a stored connection against another port',
      method: 'POST',
      url: '/api/connections/stored/check',
      payload: { ...imapSaved, port: trap.port },
      secretField: 'password',
    },
    {
      what: 'check a stored connection with TLS checks turned off',
      method: 'POST',
      url: '/api/connections/stored/check',
      payload: { ...imapSaved, port: trap.port, useSsl: true, tls: { rejectUnauthorized: false } },
      secretField: 'password',
    },
    {
      what: 'save a stored connection with another port',
      method: 'PUT',
      url: '/api/connections/stored',
      payload: { ...imapSaved, port: trap.port },
      secretField: 'password',
    },
    {
      what: 'check an oauth2 connection with another token URL',
      method: 'POST',
      url: '/api/connections/stored-oauth/check',
      payload: { ...imapSaved, oauth2: { clientId: 'c', tokenUrl: `http://127.0.0.1:${trap.port}/token` } },
      secretField: 'oauth2.',
    },
    {
      what: 'check a Graph connection with another authority',
      method: 'POST',
      url: '/api/connections/stored-graph/check',
      payload: {
        hostType: 'graph',
        tenantId: 't',
        clientId: 'c',
        mailbox: 'm@example.com',
        authorityHost: `http://127.0.0.1:${trap.port}`,
        graphEndpoint: 'http://127.0.0.1:9',
      },
      secretField: 'clientSecret',
    },
    {
      what: 'check a Graph connection with another Graph endpoint',
      method: 'POST',
      url: '/api/connections/stored-graph/check',
      payload: {
        hostType: 'graph',
        tenantId: 't',
        clientId: 'c',
        mailbox: 'm@example.com',
        authorityHost: 'http://127.0.0.1:9',
        graphEndpoint: `http://127.0.0.1:${trap.port}`,
      },
      secretField: 'clientSecret',
    },
  ];

  it('refuses to carry a secret to a changed target, naming the secret to give again', async () => {
    for (const attempt of attempts()) {
      const response = await api.app.inject({ method: attempt.method, url: attempt.url, headers: AUTH, payload: attempt.payload });
      assert.equal(response.statusCode, 400, `${attempt.what}: ${response.body}`);
      const issues = response.json().issues as Array<{ path: string; message: string }>;
      assert.ok(
        issues.some((issue) => issue.path.startsWith(attempt.secretField)),
        `${attempt.what}: the error names ${attempt.secretField}: ${response.body}`,
      );
      for (const secret of SECRETS) assert.ok(!response.body.includes(secret), `${attempt.what}: the reply holds a secret`);
    }
    // Give the clients a moment to have connected, had they been sent anywhere.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const secret of SECRETS) assert.ok(!trap.received().includes(secret), 'the listener received a saved secret');
  });

  it('still keeps a secret left out while the target is unchanged', async () => {
    const put = await api.app.inject({ method: 'PUT', url: '/api/connections/stored', headers: AUTH, payload: { ...imapSaved, username: 'renamed-user' } });
    assert.equal(put.statusCode, 200, put.body);
    const check = await api.app.inject({ method: 'POST', url: '/api/connections/stored/check', headers: AUTH, payload: { ...imapSaved } });
    assert.equal(check.statusCode, 200, check.body);
    const saved = await api.opened.store.getManagedConnection('stored');
    assert.ok(JSON.stringify(saved?.config).includes('renamed-user'));
    assert.ok(api.connections.get('stored')?.config, 'the stored connection still validates, with its password');
  });

  it('sends a secret to a new target when the request gives it', async () => {
    const response = await api.app.inject({
      method: 'POST',
      url: '/api/connections/stored/check',
      headers: AUTH,
      payload: { ...imapSaved, port: trap.port, password: 'given-for-the-new-host' },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.ok(trap.received().includes('given-for-the-new-host'), 'the check used the password it was given');
    for (const secret of SECRETS) assert.ok(!trap.received().includes(secret));
  });
});
