import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, it } from 'node:test';
import { openWorkspaceStore, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => ws?.dispose());

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('is due again after the retry interval, not the polling interval, and says why it failed', async () => {
  const port = await closedPort();
  const config = testConfig(
    ws,
    [
      {
        name: 'down',
        hostType: 'imap',
        host: '127.0.0.1',
        port,
        useSsl: false,
        username: 'u',
        password: 'pw-never-logged',
        pollingInterval: '1h',
        destination: 'out',
      },
    ],
    { retry: { interval: '45s' } },
  );
  const started = Date.now();
  const { polls } = await runOnce(config);
  const outcome = polls.get('down');
  assert.ok(outcome?.status === 'failed');
  assert.equal(outcome.error.code, 'CONNECTION_REFUSED');
  assert.match(outcome.error.explain(), /Check the port/);

  const opened = await openWorkspaceStore(config);
  const state = await opened.store.getConnectionState('down');
  await opened.store.close();
  assert.ok(state?.nextDueAt);
  const wait = state.nextDueAt - started;
  assert.ok(wait >= 44_000 && wait < 60_000, `due again after ~45 s (the retry interval), not 1 h: ${wait} ms`);
  assert.equal(state.consecutiveFailures, 1);
  assert.equal(state.lastPoll?.ok, false);
  assert.doesNotMatch(state.lastPoll?.error ?? '', /pw-never-logged/);
});
