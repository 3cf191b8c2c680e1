/**
 * The service object the CLI runs: start() serves the API and polls, stop() closes everything,
 * and asking twice (a signal arriving during shutdown, a test's cleanup after a failed start)
 * neither starts a second server nor closes the store twice.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PostroomService } from '../../src/service/postroom-service.ts';
import { quietLog, testConfig, workspace } from '../support/postroom.ts';

const ws = await workspace();
after(() => ws.dispose());

const TOKEN = 'a-token-for-this-test-only-0123456789';
const authorised = { headers: { authorization: `Bearer ${TOKEN}` } };

test('start and stop are idempotent, and a stopped service serves nothing', async (t) => {
  const config = testConfig(ws, [], { api: { listen: '127.0.0.1:0', token: TOKEN } });
  const service = await PostroomService.open({ config, log: quietLog });
  t.after(() => service.stop());
  await Promise.all([service.start(), service.start()]);
  await service.start();
  assert.ok(service.url, 'the service says where its API is');
  const status = await fetch(new URL('api/status', service.url), authorised);
  assert.equal(status.status, 200, 'the API answers while the service runs');

  await Promise.all([service.stop({ timeoutMs: 5_000 }), service.stop()]);
  await service.stop();
  await assert.rejects(fetch(new URL('api/status', service.url), authorised), 'the port is closed after stop');
  await assert.rejects(service.start(), /stopped; open a new one/);
  await assert.rejects(service.opened.store.listLeases(), 'the store the service opened is closed');
});

test('run-once mode serves no API and keeps no metrics', async (t) => {
  const config = testConfig(ws, [], { api: { listen: '127.0.0.1:0', token: TOKEN } });
  const service = await PostroomService.open({ config, log: quietLog, mode: 'once' });
  t.after(() => service.stop());
  const { polls, delivery } = await service.runOnce();
  assert.equal(polls.size, 0);
  assert.deepEqual(delivery, { delivered: 0, retried: 0, dead: 0 });
  assert.equal(service.plane.metrics, undefined);
  await service.start();
  assert.equal(service.url, undefined, 'no API in run-once mode');
  await service.stop();
});
