import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { ConnectionRegistry } from '../../src/api/connection-registry.ts';
import { systemClock } from '../../src/model/clock.ts';
import { SecretBox } from '../../src/store/secret-box.ts';
import { quietLog, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';

const PASSWORD = 'Pw-at-rest-plain-text-8e21';
const REFRESH = 'Refresh-at-rest-plain-text-19c0';
const OTHER_KEY = 'a'.repeat(64);

/** Every byte the SQLite store has on disk: the database, its WAL and shared memory. */
async function storeBytes(dataDir: string): Promise<string> {
  let all = '';
  for (const name of await readdir(dataDir))
    if (/\.(db|sqlite)(-wal|-shm)?$|-wal$|-shm$/.test(name)) all += (await readFile(join(dataDir, name))).toString('latin1');
  return all;
}

describe('secrets of connections created through the API are encrypted at rest', () => {
  const workspaces: Workspace[] = [];
  let api: ApiHarness | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  after(async () => {
    for (const ws of workspaces) await ws.dispose();
  });
  const connection = { name: 'sealed', hostType: 'imap', host: '127.0.0.1', port: 9, username: 'u', password: PASSWORD };

  it('writes no password or refresh token as plain text to the store, and still uses them', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    api = await startApi(ws);
    const created = await api.app.inject({ method: 'POST', url: '/api/connections', headers: AUTH, payload: connection });
    assert.equal(created.statusCode, 201, created.body);
    const oauth = await api.app.inject({
      method: 'POST',
      url: '/api/connections',
      headers: AUTH,
      payload: {
        ...connection,
        name: 'oauth',
        password: undefined,
        oauth2: { clientId: 'c', refreshToken: REFRESH, tokenUrl: 'https://login.example.com/token' },
      },
    });
    assert.equal(oauth.statusCode, 201, oauth.body);
    const row = await api.opened.store.getManagedConnection('sealed');
    assert.match(String(row?.config.password), /^enc:v1:[0-9a-f]{8}:/, 'the row holds a sealed value');
    const bytes = await storeBytes(ws.dataDir);
    assert.ok(bytes.length > 0, 'the store files were read');
    assert.ok(!bytes.includes(PASSWORD) && !bytes.includes(REFRESH), 'a secret is in the store files as plain text');
    const polled = api.connections.all().find((c) => c.name === 'sealed');
    assert.equal(polled?.hostType === 'imap' ? polled.password : undefined, PASSWORD, 'the worker gets the password it needs');
    // A restart (a new registry over the same store) opens them again.
    const again = await ConnectionRegistry.open({ store: api.opened.store, config: api.config, log: quietLog, clock: systemClock });
    const reopened = again.all().find((c) => c.name === 'sealed');
    assert.equal(reopened?.hostType === 'imap' ? reopened.password : undefined, PASSWORD);
  });

  it('refuses to store a secret while no key is set, and says how to set one', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    api = await startApi(ws);
    const keyless = await ConnectionRegistry.open({
      store: api.opened.store,
      config: api.config,
      log: quietLog,
      clock: systemClock,
      secrets: SecretBox.fromEnv({}),
    });
    await assert.rejects(keyless.create(connection), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SECRET_KEY_MISSING');
      assert.match(String((error as { explain?: () => string }).explain?.()), /POSTROOM_SECRET_KEY=\$\(openssl rand -hex 32\)/);
      return true;
    });
    assert.equal(await api.opened.store.getManagedConnection('sealed'), undefined, 'nothing was stored');
  });

  it('encrypts rows stored as plain text before, and names the key a row needs when it is not set', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    api = await startApi(ws);
    const now = Date.now();
    await api.opened.store.insertManagedConnection({
      name: 'old',
      config: { ...connection, name: 'old', destination: 'out' },
      enabled: true,
      createdAt: now,
      updatedAt: now,
    });
    const registry = await ConnectionRegistry.open({ store: api.opened.store, config: api.config, log: quietLog, clock: systemClock });
    assert.match(String((await api.opened.store.getManagedConnection('old'))?.config.password), /^enc:v1:/, 'the plain row was sealed at open');
    assert.ok(registry.get('old')?.config, 'and still works');
    const wrongKey = await ConnectionRegistry.open({
      store: api.opened.store,
      config: api.config,
      log: quietLog,
      clock: systemClock,
      secrets: SecretBox.fromEnv({ POSTROOM_SECRET_KEY: OTHER_KEY }),
    });
    const entry = wrongKey.get('old');
    assert.equal(entry?.config, undefined, 'not polled with a wrong key');
    assert.match(String(entry?.problem), /sealed with key [0-9a-f]{8}/);
    const rotated = await ConnectionRegistry.open({
      store: api.opened.store,
      config: api.config,
      log: quietLog,
      clock: systemClock,
      secrets: SecretBox.fromEnv({ POSTROOM_SECRET_KEY: OTHER_KEY, POSTROOM_SECRET_KEY_PREVIOUS: process.env.POSTROOM_SECRET_KEY }),
    });
    assert.ok(rotated.get('old')?.config, 'the previous key opens it while rotating');
    const resealed = String((await api.opened.store.getManagedConnection('old'))?.config.password);
    assert.ok(resealed.startsWith(`enc:v1:${SecretBox.fromEnv({ POSTROOM_SECRET_KEY: OTHER_KEY }).keyId}:`), 're-sealed under the new key');
  });
});
