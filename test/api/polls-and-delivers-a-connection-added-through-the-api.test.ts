import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';
import { waitForValue } from '../support/wait-for.ts';
import { type ApiHarness, AUTH, sampleEmail, startApi } from './api-kit.ts';
import { metricValue, parsePrometheus } from './prometheus-text.ts';

/** Long enough for a first poll and delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;

/** Each probe reads files or the store: a few times a second is enough. */
const PROBE_EVERY_MS = 200;

describe('a connection added through the API on a running worker', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  let api: ApiHarness;
  let base: string;

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
    api = await startApi(ws, { worker: true });
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('is tested, picked up by the scheduler and delivers every email from Dovecot', async () => {
    const user = await dovecot.addUser('intake', 'pw-intake-77');
    await dovecot.deliverMany(user.name, [sampleEmail('first order'), sampleEmail('second order')]);
    const body = imapConnection(dovecot, user, { name: 'intake', pollingInterval: '60s' });

    const check = await fetch(`${base}/api/connections/intake/check`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(check.status, 200);
    const result = (await check.json()) as { ok: boolean; steps: Array<{ step: string; ok: boolean }> };
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(
      result.steps.map((s) => s.step),
      ['dns', 'tcp', 'tls', 'login', 'folder', 'capabilities'],
    );

    const created = await fetch(`${base}/api/connections`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(created.status, 201, await created.clone().text());

    const delivered = await waitForValue(
      '4 pipeline messages',
      async () => {
        const found = await readDelivered(ws.outDir);
        return found.length >= 4 ? found : undefined;
      },
      WAIT_MS,
      PROBE_EVERY_MS,
    );
    assert.deepEqual(delivered.map((d) => `${d.envelope.email.subject}/${d.envelope.kind}`).sort(), [
      'first order/attachment',
      'first order/body',
      'second order/attachment',
      'second order/body',
    ]);
    assert.ok(delivered.every((d) => d.envelope.connection === 'intake'));
    const onServer = await dovecot.listMessages(user.name);
    assert.ok(
      onServer.every((m) => m.flags.includes('\\Seen')),
      'acknowledged on the server',
    );
  });

  it('shows the first poll on the status board and in the per-minute activity', async () => {
    const row = await waitForValue(
      'a recorded poll',
      async () => {
        const response = await fetch(`${base}/api/status`, { headers: AUTH });
        const status = (await response.json()) as {
          connections: Array<{
            name: string;
            state: string;
            lastPoll: { ok: boolean; emails: number } | null;
            emailsTotal: number;
            nextPollAt: string | null;
            outbox: number;
          }>;
          activity: { emails: number[]; messages: number[] };
        };
        const found = status.connections.find((c) => c.name === 'intake');
        return found?.lastPoll ? { found, status } : undefined;
      },
      WAIT_MS,
      PROBE_EVERY_MS,
    );
    assert.ok(['ok', 'polling'].includes(row.found.state), `ok, or polling again (IDLE): ${row.found.state}`);
    assert.equal(row.found.lastPoll?.ok, true);
    assert.equal(row.found.emailsTotal, 2, 'both emails (the first poll took them; IDLE may have polled again since)');
    assert.ok(row.found.nextPollAt && Date.parse(row.found.nextPollAt) > Date.now(), 'the next poll is ahead');
    assert.equal(
      row.status.activity.emails.reduce((a, b) => a + b, 0),
      2,
    );
    assert.equal(
      row.status.activity.messages.reduce((a, b) => a + b, 0),
      4,
    );
  });

  it('moves the Prometheus counters, labelled by connection', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const families = parsePrometheus(text);
    assert.equal(metricValue(families, 'postroom_emails_picked_up_total', 'intake'), 2);
    assert.equal(metricValue(families, 'postroom_pipeline_messages_delivered_total', 'intake'), 4);
    assert.equal(metricValue(families, 'postroom_deliveries_failed_total', 'intake'), 0);
    assert.equal(metricValue(families, 'postroom_outbox_depth', 'intake'), 0);
    assert.equal(metricValue(families, 'postroom_connection_throttled', 'intake'), 0);
    // The parser keeps a histogram's buckets but drops its labels and _count; read both ways.
    assert.equal(families.get('postroom_poll_duration_seconds')?.type, 'HISTOGRAM');
    assert.ok(Number(families.get('postroom_poll_duration_seconds')?.metrics[0]?.buckets?.['+Inf']) >= 1, 'the poll duration was observed');
    assert.match(text, /^postroom_poll_duration_seconds_count\{connection="intake"\} [1-9]/m);
    assert.ok(!text.includes('first order'), 'nothing is labelled by email');
  });
});
