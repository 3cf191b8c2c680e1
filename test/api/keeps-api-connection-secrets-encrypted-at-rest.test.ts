/**
 * Secrets of connections created through the API are encrypted in the store under
 * POSTROOM_SECRET_KEY: the raw SQLite files and the PostgreSQL row never hold them, rows from
 * before are encrypted at start-up, a rotated key reads old rows, an unknown key is a `problem`
 * on the connection, and no key means the API refuses to store a secret.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ConnectionRegistry } from '../../src/api/connection-registry.ts';
import { secretBoxFromEnv } from '../../src/store/secret-box.ts';
import { AUTH, TEST_SECRET_KEY, startApi, type ApiHarness } from './api-kit.ts';
import { POSTGRES_BASE_URL, postgresTestStore } from '../support/stores.ts';
import { quietLog, testConfig, workspace, type Workspace } from '../support/postroom.ts';
import { systemClock } from '../../src/engine/clock.ts';

const PASSWORD = 'Pw-at-rest-9d2f1e';
const REFRESH_TOKEN = 'Refresh-at-rest-77b0c4';
const GRAPH_SECRET = 'Graph-at-rest-5a6e3d';
const LEGACY_PASSWORD = 'Pw-legacy-plain-41c8';
const SECRETS = [PASSWORD, REFRESH_TOKEN, GRAPH_SECRET, LEGACY_PASSWORD];
const NEW_KEY = Buffer.alloc(32, 7).toString('base64');
const keyId = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 8);

/** Every byte of every file under a directory (the database, its WAL, the content files). */
async function rawBytes(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'latin1')));
  return texts.join('\n');
}

const connections = [
  { name: 'imap-pw', hostType: 'imap', host: 'imap.example.com', username: 'u', password: PASSWORD },
  { name: 'oauth', hostType: 'pop3', host: 'pop.example.com', username: 'u', oauth2: { tokenUrl: 'https://login.example.com/token', clientId: 'c', refreshToken: REFRESH_TOKEN } },
  { name: 'graph', hostType: 'graph', tenantId: 't', clientId: 'c', clientSecret: GRAPH_SECRET, mailbox: 'm@example.com' },
];

describe('secrets at rest on SQLite', () => {
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

  it('stores no secret in the SQLite files, and the worker still gets them', async () => {
    for (const payload of connections) {
      const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload });
      assert.equal(created.statusCode, 201, created.body);
    }
    const raw = await rawBytes(ws.dataDir);
    assert.match(raw, /enc:v1:/, 'the files were read');
    for (const secret of SECRETS) assert.ok(!raw.includes(secret), `${secret} is in the SQLite files`);
    const polled = api.connections.all().find((c) => c.name === 'imap-pw');
    assert.equal(polled?.hostType === 'imap' ? polled.password : undefined, PASSWORD);
  });

  it('encrypts a plain-text row from before at start-up', async () => {
    await api.opened.store.insertManagedConnection({ name: 'legacy', config: { name: 'legacy', hostType: 'imap', host: 'old.example.com', username: 'l', password: LEGACY_PASSWORD }, enabled: true, createdAt: 1, updatedAt: 1 });
    await api.close();
    api = await startApi(ws);
    // The row itself: SQLite's free space and WAL may keep the old plain text until it is reused (README: VACUUM).
    const row = await api.opened.store.getManagedConnection('legacy');
    assert.match(String(row?.config.password), /^enc:v1:/, 'the legacy password is still in plain text');
    assert.ok(!JSON.stringify(row?.config).includes(LEGACY_PASSWORD));
    const legacy = api.connections.get('legacy')?.config;
    assert.equal(legacy?.hostType === 'imap' ? legacy.password : undefined, LEGACY_PASSWORD);
  });

  it('reads rows under the previous key while rotating, and writes them under the new one', async () => {
    await api.close();
    api = await startApi(ws, { secretEnv: { POSTROOM_SECRET_KEY: NEW_KEY, POSTROOM_SECRET_KEY_PREVIOUS: TEST_SECRET_KEY } });
    assert.equal(api.connections.get('imap-pw')?.problem, undefined);
    const row = await api.opened.store.getManagedConnection('imap-pw');
    assert.match(String(row?.config.password), new RegExp(`^enc:v1:${keyId(Buffer.from(NEW_KEY, 'base64'))}:`), 're-encrypted under the new key');
    await api.close();
    api = await startApi(ws, { secretEnv: { POSTROOM_SECRET_KEY: NEW_KEY } });
    const polled = api.connections.all().find((c) => c.name === 'imap-pw');
    assert.equal(polled?.hostType === 'imap' ? polled.password : undefined, PASSWORD, 'the old key is no longer needed');
  });

  it('shows which key is needed when the key is unknown, without crashing', async () => {
    await api.close();
    api = await startApi(ws, { secretEnv: { POSTROOM_SECRET_KEY: TEST_SECRET_KEY } });
    const got = await api.app.inject({ method: 'GET', url: '/api/connections/imap-pw', headers: AUTH });
    assert.equal(got.statusCode, 200);
    assert.match(got.json().problem, new RegExp(`key with id ${keyId(Buffer.from(NEW_KEY, 'base64'))}`));
    assert.equal(got.json().passwordSet, true);
    assert.ok(!api.connections.all().some((c) => c.name === 'imap-pw'), 'not polled');
    const put = await api.app.inject({ method: 'PUT', url: '/api/connections/imap-pw', headers: AUTH, payload: { ...connections[0], password: undefined } });
    assert.equal(put.statusCode, 400, put.body);
    assert.equal(put.json().issues[0].path, 'password');
    const fixed = await api.app.inject({ method: 'PUT', url: '/api/connections/imap-pw', headers: AUTH, payload: connections[0] });
    assert.equal(fixed.statusCode, 200, 'giving the password again fixes it');
    assert.equal(fixed.json().problem, undefined);
  });

  it('refuses to store a secret while no key is set, and says how to set one', async () => {
    await api.close();
    api = await startApi(ws, { secretEnv: {} });
    const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: { ...connections[0], name: 'keyless' } });
    assert.equal(created.statusCode, 409, created.body);
    assert.equal(created.json().error, 'SECRET_KEY_MISSING');
    assert.match(created.json().message, /POSTROOM_SECRET_KEY=\$\(openssl rand -hex 32\)/);
    assert.equal(await api.opened.store.getManagedConnection('keyless'), undefined);
  });

  it('refuses a key that is not 32 bytes, saying how it is written', () => {
    assert.throws(() => secretBoxFromEnv({ POSTROOM_SECRET_KEY: 'too-short' }), /64 hex digits or as base64/);
    assert.throws(() => secretBoxFromEnv({ POSTROOM_SECRET_KEY: 'too-short' }), (error: Error & { hint?: string }) => /openssl rand -hex 32/.test(error.hint ?? ''));
  });
});

describe('secrets at rest on PostgreSQL', () => {
  it('keeps no secret in the managed_connections row', async () => {
    const ws = await workspace();
    const store = await postgresTestStore();
    try {
      const config = testConfig(ws, []);
      const registry = await ConnectionRegistry.open({ store: store.store, config, log: quietLog, clock: systemClock, secrets: secretBoxFromEnv({ POSTROOM_SECRET_KEY: TEST_SECRET_KEY }) });
      for (const body of connections) await registry.create(body);
      const schema = new URL(store.location).searchParams.get('schema');
      const client = new pg.Client({ connectionString: POSTGRES_BASE_URL });
      await client.connect();
      const { rows } = await client.query<{ config_json: string }>(`select config_json from "${schema}".managed_connections`);
      await client.end();
      assert.equal(rows.length, 3);
      const raw = rows.map((r) => r.config_json).join('\n');
      for (const secret of SECRETS) assert.ok(!raw.includes(secret), `${secret} is in the PostgreSQL row`);
      const reopened = await ConnectionRegistry.open({ store: store.store, config, log: quietLog, clock: systemClock, secrets: secretBoxFromEnv({ POSTROOM_SECRET_KEY: TEST_SECRET_KEY }) });
      const graph = reopened.get('graph')?.config;
      assert.equal(graph?.hostType === 'graph' ? graph.clientSecret : undefined, GRAPH_SECRET);
    } finally {
      await store.dispose();
      await ws.dispose();
    }
  });
});
