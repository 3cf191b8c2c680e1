/**
 * The operator's controls through the real service against Dovecot: poll now takes an email
 * appended a moment before without waiting for the interval and says what it took; pause stops
 * polling on every worker sharing the store and lets the lease go; resume starts it again.
 * `postroom status` from another shell shows what the running service decided, and the latest
 * controls with who and when.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import type { OpenedStore } from '../../src/store/open-store.ts';
import { type ApiHarness, AUTH, MUTATE, sampleEmail, startApi } from '../api/api-kit.ts';
import { metricValue, parsePrometheus } from '../api/prometheus-text.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot.ts';
import { imapConnection, openWorkspaceStore, quietLog, readDelivered, type Workspace, workspace } from '../support/postroom.ts';
import { waitForValue } from '../support/wait-for.ts';

/** Long enough for a poll and a delivery on a busy 2-core machine. */
const WAIT_MS = 30_000;
/** Scheduler ticks (1 s each) that a paused connection must sit through unpolled while due. */
const PAUSED_TICKS_MS = 3_000;

describe('poll now, pause and resume on a running service', () => {
  let dovecot: Dovecot;
  let user: DovecotUser;
  let ws: Workspace;
  let api: ApiHarness;
  let second: { opened: OpenedStore; worker: Worker } | undefined;
  const unseen = async () => (await dovecot.listMessages(user.name)).filter((m) => !m.flags.includes('\\Seen')).length;
  const delivered = async (n: number) =>
    waitForValue(`${n} pipeline messages`, async () => ((await readDelivered(ws.outDir)).length >= n ? true : undefined), WAIT_MS);

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
    user = await dovecot.addUser('orders', 'pw-orders-21');
    await dovecot.deliver(user.name, sampleEmail('first order'));
    // An hour between polls and no IDLE: only poll now and resume can explain a quick pickup.
    api = await startApi(ws, { worker: true, connections: [imapConnection(dovecot, user, { name: 'orders', pollingInterval: '1h', idle: false })] });
  });
  after(async () => {
    await second?.worker.stop({ timeoutMs: 5_000 });
    await second?.opened.store.close();
    await api?.close();
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('poll now picks up an email appended a moment before and says what it took', async () => {
    await delivered(2);
    await dovecot.append(user.name, sampleEmail('second order'));
    const response = await api.app.inject({ method: 'POST', url: '/api/connections/orders/poll', headers: MUTATE });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(
      { outcome: response.json().outcome, emails: response.json().emails, messages: response.json().messages, error: response.json().error },
      { outcome: 'done', emails: 1, messages: 2, error: null },
    );
    await delivered(4);
    assert.equal(await unseen(), 0);
    const missing = await api.app.inject({ method: 'POST', url: '/api/connections/nope/poll', headers: MUTATE });
    assert.equal(missing.statusCode, 404);
  });

  it('pause stops polling on every worker and frees the lease; resume starts it again', async () => {
    // A second worker on the same store: the pause must hold there too.
    const opened = await openWorkspaceStore(api.config);
    second = { opened, worker: new Worker({ createDestination, config: api.config, opened, log: quietLog }) };
    second.worker.start();

    const paused = await api.app.inject({ method: 'POST', url: '/api/connections/orders/pause', headers: MUTATE });
    assert.equal(paused.statusCode, 200, paused.body);
    assert.match(paused.json().paused.by, /^API from /, 'says who paused it');
    assert.ok(Date.parse(paused.json().paused.at) > 0, 'and when');

    await waitForValue(
      'the lease let go',
      async () => ((await api.opened.store.listLeases()).every((lease) => lease.connection !== 'orders' || lease.expiresAt <= Date.now()) ? true : undefined),
      WAIT_MS,
    );
    const status = (await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH })).json();
    assert.equal(status.connections[0].state, 'paused');
    assert.equal(status.connections[0].lease, null);
    const metrics = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
    assert.equal(metricValue(metrics, 'postroom_connection_paused', 'orders'), 1);

    const polls = (await api.opened.store.pollActivity(0, 60_000)).reduce((sum, bucket) => sum + bucket.polls, 0);
    await dovecot.append(user.name, sampleEmail('third order'));
    await api.opened.store.setNextDue('orders', Date.now());
    await delay(PAUSED_TICKS_MS);
    assert.equal(
      (await api.opened.store.pollActivity(0, 60_000)).reduce((sum, bucket) => sum + bucket.polls, 0),
      polls,
      'no worker polled it though it was due',
    );
    assert.equal(await unseen(), 1, 'the new email waits on the server');
    const refused = await api.app.inject({ method: 'POST', url: '/api/connections/orders/poll', headers: MUTATE });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().error, 'CONNECTION_PAUSED');
    assert.match(refused.json().message, /resume/i, 'the error says how to go on');

    const resumed = await api.app.inject({ method: 'POST', url: '/api/connections/orders/resume', headers: MUTATE });
    assert.deepEqual(resumed.json(), { connection: 'orders', paused: null });
    await delivered(6);
    assert.equal(await unseen(), 0);
  });

  it('postroom status in another shell shows what the service decided, and pause/resume work from the CLI', async () => {
    // The same store and connection, `enabled` read from an environment this shell does not have.
    const path = await writeConfigFile(ws.dir, {
      store: ws.dataDir,
      destinations: { out: { type: 'directory', path: ws.outDir } },
      connections: [{ ...imapConnection(dovecot, user, { name: 'orders', pollingInterval: '1h' }), enabled: '${ORDERS_ENABLED:-false}' }],
    });
    const env = { ORDERS_ENABLED: '' };
    const status = await runCli(['--config', path, 'status', '--json'], { env });
    assert.equal(status.code, 0, status.stderr);
    const [row] = JSON.parse(status.stdout) as Array<{ connection: string; enabled: boolean; enabledFrom: string; delivery: { state: string } }>;
    assert.deepEqual({ enabled: row?.enabled, from: row?.enabledFrom, delivery: row?.delivery.state }, { enabled: true, from: 'the service', delivery: 'ok' });

    const pause = await runCli(['--config', path, 'pause', 'orders'], { env });
    assert.equal(pause.code, 0, pause.stderr);
    const state = await api.opened.store.getConnectionState('orders');
    assert.match(state?.pausedBy ?? '', /^CLI \(/);
    const text = await runCli(['--config', path, 'status'], { env });
    assert.match(text.stdout, /PAUSED by CLI/);
    // The latest three controls, newest first: the refused poll now is not among them.
    assert.match(text.stdout, /\n {2}controls: {4}paused by CLI \(.+\) at \S+Z; resumed by API from \S+ at \S+Z; paused by API from \S+ at \S+Z\n/);
    const resume = await runCli(['--config', path, 'resume', 'orders'], { env });
    assert.equal(resume.code, 0, resume.stderr);
    assert.match(resume.stdout, /resumed \(was paused by CLI/);
    assert.equal((await api.opened.store.getConnectionState('orders'))?.pausedBy, null);
  });
});
