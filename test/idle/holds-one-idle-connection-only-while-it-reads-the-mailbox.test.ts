import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { type RunningWorker, startWorker, until } from './idle-kit.ts';

/** Two scheduler ticks (1 s each) and a logout. */
const DROP_LIMIT_MS = 5_000;

describe('the IDLE connection', () => {
  let dovecot: Dovecot;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await dovecot?.stop();
  });

  async function setUp(name: string, extra: Partial<ConnectionInput> = {}): Promise<{ proxy: TcpProxy; ws: Workspace; running: RunningWorker }> {
    const user = await dovecot.addUser(name, `pw-${name}`);
    const proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.imapsPort });
    const ws = await workspace();
    const running = await startWorker(testConfig(ws, [imapConnection(dovecot, user, { port: proxy.port, pollingInterval: '1h', ...extra })]));
    cleanups.push(async () => {
      await running.stop();
      await proxy.close();
      await ws.dispose();
    });
    return { proxy, ws, running };
  }

  it('is one connection while this worker reads the mailbox, dropped when another worker takes the lease', async () => {
    const { proxy, running } = await setUp('handover');
    await until('the first poll and the watcher catch-up poll', () => running.polls.length >= 2, 15_000);
    await until('the polls to log out', () => proxy.connections() === 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(proxy.connections(), 1, 'one IDLE connection, no more');

    // Another worker takes the lease (as after this one's ran out).
    const { store } = running.opened;
    const ours = (await store.listLeases()).find((lease) => lease.connection === 'inbox')!;
    await store.releaseLease(ours);
    assert.ok(await store.acquireLease('inbox', 'another-worker', 3_600_000, Date.now()));
    await until('the IDLE connection to close', () => proxy.connections() === 0, DROP_LIMIT_MS);
  });

  it('closes when the worker stops', async () => {
    const { proxy, running } = await setUp('shutdown');
    await until('the first poll and the watcher catch-up poll', () => running.polls.length >= 2, 15_000);
    await until('only the IDLE connection', () => proxy.connections() === 1, 10_000);
    await running.worker.stop({ timeoutMs: 5_000 });
    await until('every connection to close', () => proxy.connections() === 0, DROP_LIMIT_MS);
  });

  it('is never opened with idle: false', async () => {
    const { proxy, running } = await setUp('no-idle', { idle: false });
    await until('the first poll', () => running.polls.length >= 1, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(running.polls.length, 1, 'no catch-up poll: nothing is watching');
    assert.equal(proxy.connections(), 0);
    assert.equal(proxy.allConnections().length, 1, 'only the poll connected');
  });
});
