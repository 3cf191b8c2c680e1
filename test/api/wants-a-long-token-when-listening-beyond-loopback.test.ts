/**
 * Beyond loopback the token is all that stands between the network and the API, so a short one
 * is a configuration error naming api.token and saying how to make a good one. On loopback any
 * token will do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openControlPlane } from '../../src/api/control-plane.ts';
import { MIN_EXPOSED_TOKEN_LENGTH, resolveListen } from '../../src/api/listen-address.ts';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { isPostroomError } from '../../src/model/errors.ts';
import { openWorkspaceStore, quietLog, testConfig, type Workspace, workspace } from '../support/postroom.ts';

const SHORT = 'short-token-1234';
const LONG = 'a3f9'.repeat(8);

describe('the token length beyond loopback', () => {
  let ws: Workspace;

  before(async () => {
    ws = await workspace();
  });
  after(async () => {
    await ws?.dispose();
  });

  it('refuses to start on 0.0.0.0 with a short token, naming api.token and how to make one', async () => {
    const config = testConfig(ws, [], { api: { listen: '0.0.0.0:0', token: SHORT } });
    const opened = await openWorkspaceStore(config);
    const plane = await openControlPlane({ config, opened, log: quietLog });
    const worker = new Worker({ createDestination, config, opened, log: quietLog, ...plane.workerOptions });
    try {
      // A server that did start is closed again, so a failing run ends instead of hanging.
      const error = await plane.listen(worker).then(
        async (server) => server.close(),
        (refused: unknown) => refused,
      );
      assert.ok(isPostroomError(error, 'CONFIG_INVALID'), 'the API did not start');
      assert.match(error.explain(), /api\.token/);
      assert.match(error.explain(), new RegExp(`${MIN_EXPOSED_TOKEN_LENGTH} characters`));
      assert.match(error.explain(), /openssl rand -hex 32/);
      assert.ok(!error.explain().includes(SHORT), 'the token itself is not in the error');
    } finally {
      await worker.stop();
      await opened.store.close();
    }
  });

  it('takes a short token on loopback, and a long one anywhere', () => {
    assert.equal(MIN_EXPOSED_TOKEN_LENGTH, 32);
    assert.equal(resolveListen('127.0.0.1:8025', SHORT).host, '127.0.0.1');
    assert.equal(resolveListen('[::1]:8025', SHORT).host, '::1');
    assert.equal(resolveListen('localhost:8025', SHORT).host, 'localhost');
    assert.equal(resolveListen('0.0.0.0:8025', LONG).host, '0.0.0.0');
    assert.throws(() => resolveListen(':8025', SHORT), /api\.token/);
    assert.throws(() => resolveListen('10.0.0.5:8025', 'x'.repeat(MIN_EXPOSED_TOKEN_LENGTH - 1)), /api\.token/);
  });
});
