import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QUICK_ATTEMPTS } from '../../src/engine/delivery.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, AUTH, MUTATE, makeDeadLetters, sampleEmail, startApi } from './api-kit.ts';
import { metricValue, parsePrometheus } from './prometheus-text.ts';

describe('dead letters through the REST API', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;
  const raw = sampleEmail('undeliverable invoice');

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
    const user = await dovecot.addUser('invoices', 'pw-invoices-3');
    const dead = await makeDeadLetters(ws, dovecot, user, raw, { name: 'invoices' });
    assert.equal(dead, 2, 'body and attachment are dead letters');
    // The service: the same store, the destination writable again, a running worker.
    api = await startApi(ws, { worker: true, connections: [imapConnection(dovecot, user, { name: 'invoices', enabled: false })] });
  });
  after(async () => {
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('lists them with the reason, attempts and next attempt', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/dead-letters', headers: AUTH });
    assert.equal(response.statusCode, 200);
    const list = response.json() as Array<{
      id: string;
      connection: string;
      kind: string;
      attempts: number;
      nextAttemptAt: string | null;
      lastError: string;
      subject: string;
    }>;
    assert.equal(list.length, 2);
    for (const item of list) {
      assert.equal(item.connection, 'invoices');
      assert.equal(item.subject, 'undeliverable invoice');
      assert.equal(item.attempts, QUICK_ATTEMPTS);
      assert.ok(item.nextAttemptAt, 'the catastrophic retry schedule has a next attempt');
      assert.match(item.lastError, /ENOTDIR|not a directory/i);
    }
    const filtered = await api.app.inject({ method: 'GET', url: '/api/dead-letters?connection=other', headers: AUTH });
    assert.deepEqual(filtered.json(), []);
    const status = await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH });
    assert.equal(status.json().connections[0].deadLetters, 2, 'the status board counts them');
    const metrics = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(metricValue(metrics, 'postroom_dead_letters', 'invoices'), 2);
  });

  it('shows one envelope and serves the raw email byte for byte', async () => {
    const [first] = (await api.app.inject({ method: 'GET', url: '/api/dead-letters', headers: AUTH })).json() as Array<{ id: string }>;
    const detail = await api.app.inject({ method: 'GET', url: `/api/dead-letters/${first!.id}`, headers: AUTH });
    assert.equal(detail.statusCode, 200);
    assert.equal(detail.json().envelope.id, first!.id);
    assert.equal(detail.json().envelope.email.subject, 'undeliverable invoice');
    assert.equal(detail.json().rawAvailable, true);
    assert.ok(!('contentRef' in detail.json()), 'internal refs stay inside');

    const rawResponse = await api.app.inject({ method: 'GET', url: `/api/dead-letters/${first!.id}/raw`, headers: AUTH });
    assert.equal(rawResponse.statusCode, 200);
    assert.equal(rawResponse.headers['content-type'], 'message/rfc822');
    assert.match(String(rawResponse.headers['content-disposition']), /attachment; filename="[0-9a-f]+\.eml"/);
    assert.equal(rawResponse.body, raw);

    for (const url of ['/api/dead-letters/nope', '/api/dead-letters/nope/raw']) {
      const missing = await api.app.inject({ method: 'GET', url, headers: AUTH });
      assert.equal(missing.statusCode, 404, url);
      assert.equal(missing.json().error, 'DEAD_LETTER_NOT_FOUND');
    }
    const replayMissing = await api.app.inject({ method: 'POST', url: '/api/dead-letters/nope/replay', headers: MUTATE });
    assert.equal(replayMissing.statusCode, 404);
  });

  it('replays one, then all, and the running worker delivers them', async () => {
    const [first, second] = (await api.app.inject({ method: 'GET', url: '/api/dead-letters', headers: AUTH })).json() as Array<{ id: string }>;
    const one = await api.app.inject({ method: 'POST', url: `/api/dead-letters/${first!.id}/replay`, headers: MUTATE });
    assert.equal(one.json().replayed, 1);
    assert.equal(one.json().delivered, 1, 'the answer says it was delivered, once it was');
    assert.equal(one.json().results[0].outcome, 'delivered');
    assert.deepEqual(
      (await readDelivered(ws.outDir)).map((d) => d.envelope.id),
      [first!.id],
    );

    const all = await api.app.inject({ method: 'POST', url: '/api/dead-letters/replay-all', headers: MUTATE });
    assert.deepEqual({ replayed: all.json().replayed, delivered: all.json().delivered, failed: all.json().failed }, { replayed: 1, delivered: 1, failed: 0 });
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.id).sort(), [first!.id, second!.id].sort());
    const left = await api.app.inject({ method: 'GET', url: '/api/dead-letters', headers: AUTH });
    assert.deepEqual(left.json(), []);
    const metrics = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(metricValue(metrics, 'postroom_pipeline_messages_delivered_total', 'invoices'), 2);
    assert.equal(metricValue(metrics, 'postroom_dead_letters', 'invoices'), 0);
  });
});
