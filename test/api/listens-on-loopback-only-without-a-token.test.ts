import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { openControlPlane } from '../../src/api/control-plane.ts';
import { resolveListen } from '../../src/api/listen-address.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { REDACTED_PATHS } from '../../src/model/log.ts';
import { openWorkspaceStore, testConfig, type Workspace, workspace } from '../support/postroom.ts';

function capturingLog(): { log: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink), text: () => chunks.join('') };
}

describe('where the API listens', () => {
  let ws: Workspace;

  before(async () => {
    ws = await workspace();
  });
  after(async () => {
    await ws?.dispose();
  });

  it('binds loopback instead of every address when api.token is not set, and says so', async () => {
    const { log, text } = capturingLog();
    const config = testConfig(ws, [], { api: { listen: '0.0.0.0:0' } });
    const opened = await openWorkspaceStore(config);
    const plane = await openControlPlane({ config, opened, log });
    const worker = new Worker({ createDestination, config, opened, log, ...plane.workerOptions });
    const server = await plane.listen(worker);
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(text(), /api\.token is not set, so the API listens on loopback only/);
      // A SQLite store gets a token made on the first run (see makes-an-api-token-on-the-first-run...).
      assert.equal((await fetch(`${server.url}api/connections`)).status, 401, 'the made token is required even on loopback');
    } finally {
      await server.close();
      await worker.stop();
      await opened.store.close();
    }
  });

  it('binds the configured address with a token, and never logs the token', async () => {
    const { log, text } = capturingLog();
    const token = 'tok-never-in-logs-81b2-5d0e7c43a9f1';
    const config = testConfig(ws, [], { api: { listen: '0.0.0.0:0', token } });
    const opened = await openWorkspaceStore(config);
    const plane = await openControlPlane({ config, opened, log });
    const worker = new Worker({ createDestination, config, opened, log, ...plane.workerOptions });
    const server = await plane.listen(worker);
    try {
      assert.match(server.url, /^http:\/\/localhost:\d+\/$/, 'listening on every address');
      const port = new URL(server.url).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`)).status, 401);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await server.close();
      await worker.stop();
      await opened.store.close();
    }
    assert.ok(text().length > 0, 'something was logged');
    assert.ok(!text().includes(token), 'the token is not in the log');
  });

  it('reads api.listen forms', () => {
    assert.deepEqual(resolveListen('127.0.0.1:8025', undefined), { host: '127.0.0.1', port: 8025 });
    assert.deepEqual(resolveListen('[::1]:9000', undefined), { host: '::1', port: 9000 });
    assert.deepEqual(resolveListen(':8080', 't'.repeat(32)), { host: '0.0.0.0', port: 8080 });
    assert.equal(resolveListen('10.0.0.5:8025', undefined).host, '127.0.0.1');
    assert.throws(() => resolveListen('host:port', 't'.repeat(32)), /api\.listen/);
  });
});
