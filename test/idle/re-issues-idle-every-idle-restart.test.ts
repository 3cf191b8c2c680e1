import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { type ProxyConnection, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { deliveredWithSubject, type RunningWorker, startWorker, until } from './idle-kit.ts';

/** Long enough for several 2 s restarts, well short of the 30 s silence probe. */
const WATCH_MS = 7_000;
const SAMPLE_MS = 250;

let dovecot: Dovecot;
const ws: Workspace[] = [];
const stops: Array<() => Promise<void>> = [];

before(async () => {
  dovecot = await startDovecot();
});
after(async () => {
  for (const stop of stops) await stop();
  await dovecot?.stop();
  await Promise.all(ws.map((w) => w.dispose()));
});

async function watched(
  name: string,
  extra: Partial<ConnectionInput>,
): Promise<{ running: RunningWorker; proxy: TcpProxy; idle: ProxyConnection; workspace: Workspace; user: string }> {
  const user = await dovecot.addUser(name, `pw-${name}`);
  const proxy = await startTcpProxy({ host: dovecot.host, port: dovecot.imapsPort });
  const workspaceDir = await workspace();
  ws.push(workspaceDir);
  const running = await startWorker(testConfig(workspaceDir, [imapConnection(dovecot, user, { port: proxy.port, pollingInterval: '1h', ...extra })]));
  stops.push(async () => {
    await running.stop();
    await proxy.close();
  });
  await until('the first poll and the watcher catch-up poll', () => running.polls.length >= 2, 15_000);
  await until('only the IDLE connection', () => proxy.connections() === 1, 10_000);
  return { running, proxy, idle: proxy.allConnections().find((c) => !c.closed)!, workspace: workspaceDir, user: user.name };
}

/** How many times the client spoke (DONE, NOOP, IDLE come in one burst) while we watched. */
async function bursts(connection: ProxyConnection): Promise<number> {
  let count = 0;
  let last = connection.bytesFromClient;
  for (let waited = 0; waited < WATCH_MS; waited += SAMPLE_MS) {
    await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
    if (connection.bytesFromClient !== last) count += 1;
    last = connection.bytesFromClient;
  }
  return count;
}

it('ends and re-issues IDLE every idleRestart, and still hears new mail', async () => {
  const restarting = await watched('restarts', { idleRestart: '2s' });
  const quiet = await watched('default', {});
  const [restarts, defaults] = await Promise.all([bursts(restarting.idle), bursts(quiet.idle)]);
  assert.ok(restarts >= 3, `a 2 s idleRestart spoke ${restarts} times in ${WATCH_MS} ms`);
  assert.equal(defaults, 0, 'with the 5 minute default the client stays silent meanwhile');
  assert.equal(restarting.proxy.connections(), 1, 'restarting IDLE keeps the same connection');

  await dovecot.append(restarting.user, makeEmail({ subject: 'after restarts', text: 'hello\n' }).raw);
  await until('the email after restarts', async () => (await deliveredWithSubject(restarting.workspace.outDir, 'after restarts')) === 1, 5_000);
});
