import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, quietLog, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, sampleEmail, startApi } from './api-kit.ts';
import { metricValue, parsePrometheus } from './prometheus-text.ts';

describe('/healthz and /metrics', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
  });
  after(async () => {
    await api?.close().catch(() => undefined);
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('moves the counters after a run and parses as the Prometheus text format', async () => {
    const user = await dovecot.addUser('metrics', 'pw-metrics-2');
    await dovecot.deliverMany(user.name, [sampleEmail('m1'), sampleEmail('m2'), sampleEmail('m3')]);
    api = await startApi(ws, { connections: [imapConnection(dovecot, user, { name: 'box' })] });
    const before = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(metricValue(before, 'postroom_emails_picked_up_total', 'box'), 0);
    assert.equal(before.get('postroom_outbox_depth')?.type, 'GAUGE');

    // `run --once` with the control plane's hooks, as src/cli/run.ts wires them.
    const worker = new Worker({
      createDestination,
      config: api.config,
      opened: api.opened,
      log: quietLog,
      connections: () => api.connections.all(),
      onPoll: api.metrics.onPoll,
      onDelivery: api.metrics.onDelivery,
    });
    await worker.runOnce();
    await worker.stop();

    const response = await api.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const after = parsePrometheus(response.body);
    assert.equal(after.get('postroom_emails_picked_up_total')?.type, 'COUNTER');
    assert.equal(metricValue(after, 'postroom_emails_picked_up_total', 'box'), 3);
    assert.equal(metricValue(after, 'postroom_pipeline_messages_produced_total', 'box'), 6);
    assert.equal(metricValue(after, 'postroom_pipeline_messages_delivered_total', 'box'), 6);
    assert.equal(metricValue(after, 'postroom_outbox_depth', 'box'), 0);
    assert.equal(metricValue(after, 'postroom_throttled_accounts'), 0);
    assert.equal(after.get('postroom_polls_total')?.metrics.find((m) => m.labels?.connection === 'box' && m.labels.outcome === 'done')?.value, '1');
  });

  it('counts a lease passing to another worker as a takeover, and a throttled account', async () => {
    const { store } = api.opened;
    const now = Date.now();
    await store.acquireLease('box', 'worker-a', 1_000, now);
    await api.app.inject({ method: 'GET', url: '/metrics' });
    await store.acquireLease('box', 'worker-b', 1_000, now + 5_000);
    await store.setThrottle({ account: `127.0.0.1/metrics`, until: Date.now() + 60_000, reason: 'too many connections', since: now, consecutive: 1 });
    const families = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(metricValue(families, 'postroom_lease_takeovers_total', 'box'), 1);
    assert.equal(metricValue(families, 'postroom_connection_throttled', 'box'), 1);
    assert.equal(metricValue(families, 'postroom_throttled_accounts'), 1);
  });

  it('says healthy while the store answers, and 503 when it does not', async () => {
    const ok = await api.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { status: 'ok', store: 'ok' });
    await api.opened.store.close();
    const down = await api.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().status, 'unavailable');
  });
});
