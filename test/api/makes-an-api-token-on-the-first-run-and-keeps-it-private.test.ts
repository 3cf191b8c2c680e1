/**
 * With no api.token and a SQLite store, the first start makes a random token, keeps it in a
 * file only its owner can read in the data directory, logs where it is (never the token) and
 * requires it; later starts reuse it. A configured token makes no file; a PostgreSQL store gets
 * none (its data directory may not be this machine's) and stays open on loopback only.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { openControlPlane } from '../../src/api/control-plane.ts';
import { API_TOKEN_FILE } from '../../src/api/generated-token.ts';
import type { Config } from '../../src/config/schema.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import type { OpenedStore } from '../../src/store/open-store.ts';
import { openWorkspaceStore, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { postgresTestStore } from '../support/stores.ts';

function capturingLog(): { log: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), text: () => chunks.join('') };
}

/** Starts the control plane like `postroom run`, calls `use` with its URL, stops it. */
async function withControlPlane(config: Config, opened: OpenedStore, log: pino.Logger, use: (url: string) => Promise<void>): Promise<void> {
  const plane = await openControlPlane({ config, opened, log });
  const worker = new Worker({ createDestination, config, opened, log, ...plane.workerOptions });
  const server = await plane.listen(worker);
  try {
    await use(server.url);
  } finally {
    await server.close();
    await worker.stop();
  }
}

describe('the API token made on the first run', () => {
  let ws: Workspace;

  before(async () => {
    ws = await workspace();
  });
  after(async () => {
    await ws?.dispose();
  });

  it('is made once, readable by its owner only, required, and only its path is logged', async () => {
    const config = testConfig(ws, [], { api: { listen: '127.0.0.1:0' } });
    const opened = await openWorkspaceStore(config);
    const file = join(opened.dataDir, API_TOKEN_FILE);
    const first = capturingLog();
    try {
      await withControlPlane(config, opened, first.log, async (url) => {
        const token = (await readFile(file, 'utf8')).trim();
        assert.match(token, /^[0-9a-f]{64}$/, '32 random bytes, hex');
        assert.equal((await stat(file)).mode & 0o777, 0o600, 'only the owner may read it');
        assert.equal((await fetch(`${url}api/connections`)).status, 401, 'the API wants the token');
        assert.equal((await fetch(`${url}api/connections`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
        assert.ok(first.text().includes(file), 'the log says where the token is');
        assert.ok(!first.text().includes(token), 'and never the token');
      });
      const token = await readFile(file, 'utf8');
      const second = capturingLog();
      await withControlPlane(config, opened, second.log, async (url) => {
        assert.equal(await readFile(file, 'utf8'), token, 'a restart keeps the token');
        assert.equal((await fetch(`${url}api/status`, { headers: { authorization: `Bearer ${token.trim()}` } })).status, 200);
        assert.ok(second.text().includes(file));
        assert.ok(!second.text().includes(token.trim()));
      });
    } finally {
      await opened.store.close();
    }
  });

  it('is not made when api.token is configured', async () => {
    const other = await workspace();
    try {
      const config = testConfig(other, [], { api: { listen: '127.0.0.1:0', token: 'configured-token' } });
      const opened = await openWorkspaceStore(config);
      try {
        await withControlPlane(config, opened, capturingLog().log, async (url) => {
          assert.equal((await fetch(`${url}api/status`, { headers: { authorization: 'Bearer configured-token' } })).status, 200);
        });
        await assert.rejects(stat(join(opened.dataDir, API_TOKEN_FILE)), { code: 'ENOENT' });
      } finally {
        await opened.store.close();
      }
    } finally {
      await other.dispose();
    }
  });

  it('is not made for a PostgreSQL store, which stays open on loopback only', async () => {
    const store = await postgresTestStore();
    const other = await workspace();
    try {
      const config = testConfig(other, [], { store: store.location, api: { listen: '0.0.0.0:0' } });
      await withControlPlane(config, store, capturingLog().log, async (url) => {
        assert.match(url, /^http:\/\/127\.0\.0\.1:/);
        assert.equal((await fetch(`${url}api/connections`)).status, 200, 'no token on loopback');
      });
      await assert.rejects(stat(join(store.dataDir, API_TOKEN_FILE)), { code: 'ENOENT' });
    } finally {
      await store.dispose();
      await other.dispose();
    }
  });
});
