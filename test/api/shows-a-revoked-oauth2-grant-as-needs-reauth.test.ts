import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type FakeOAuth2, startFakeOAuth2 } from '../support/fake-oauth2.ts';
import { quietLog, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';
import { metricValue, parsePrometheus } from './prometheus-text.ts';

let oauth: FakeOAuth2;
let dovecot: Dovecot;
let ws: Workspace;
let api: ApiHarness;
before(async () => {
  oauth = await startFakeOAuth2();
  dovecot = await startDovecot();
  ws = await workspace();
});
after(async () => {
  await api?.close().catch(() => undefined);
  await oauth?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

it('puts a connection whose refresh token was revoked in needs_reauth on the status board, in status and in the metrics', async () => {
  oauth.addRefreshToken('rt-revoked', 'someone');
  oauth.revokeRefreshToken('rt-revoked');
  api = await startApi(ws, {
    connections: [
      {
        name: 'revoked',
        hostType: 'imap',
        host: '127.0.0.1',
        port: dovecot.imapsPort,
        useSsl: true,
        tls: { ca: dovecot.caPem },
        username: 'someone',
        oauth2: { tokenUrl: oauth.tokenUrl, clientId: oauth.clientId, clientSecret: oauth.clientSecret, refreshToken: 'rt-revoked' },
        destination: 'out',
      },
    ],
  });
  const worker = new Worker({
    createDestination,
    config: api.config,
    opened: api.opened,
    log: quietLog,
    connections: () => api.connections.all(),
    onPoll: api.metrics.onPoll,
  });
  const { polls } = await worker.runOnce();
  await worker.stop();
  const outcome = polls.get('revoked');
  assert.ok(outcome?.status === 'failed' && outcome.error.code === 'AUTH_REVOKED', JSON.stringify(outcome));

  const status = (await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH })).json() as {
    connections: Array<{ name: string; state: string; lastPoll: { error: string } }>;
  };
  const row = status.connections.find((c) => c.name === 'revoked');
  assert.equal(row?.state, 'needs_reauth');
  assert.doesNotMatch(JSON.stringify(status), /rt-revoked/, 'no secret in the status');
  const metrics = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
  assert.equal(metricValue(metrics, 'postroom_connection_needs_reauth', 'revoked'), 1);
});
