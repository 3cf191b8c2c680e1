import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

let ws: Workspace;
let configPath: string;
before(async () => {
  ws = await workspace();
  configPath = await writeConfigFile(ws.dir, {
    destinations: { out: { type: 'directory', path: './out' } },
    connections: [
      {
        name: 'custom',
        hostType: 'imap',
        host: 'imap.example.com',
        username: 'u',
        password: 'p',
        throttlePattern: 'slow down please|mailbox busy',
        throttleLatency: '45s',
      },
      {
        name: 'only-mine',
        hostType: 'imap',
        host: 'imap.example.com',
        username: 'u',
        password: 'p',
        throttlePattern: 'mailbox busy',
        throttlePatternMode: 'replace',
      },
    ],
  });
});
after(async () => ws?.dispose());

it('exits 0 for an Exchange throttling reply and says the wait it would use', async () => {
  const result = await runCli(['throttle-check', 'A7 NO Request is throttled. Suggested Backoff Time: 2000 milliseconds'], {
    cwd: ws.dir,
    env: { POSTROOM_CONFIG: '' },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /throttling: .*2000 ms/);
  assert.match(result.stdout, /wait:\s+2s \(server-text\)/);
});

it('exits 1 for a bad password and 0 for a POP3 IN-USE given after --', async () => {
  const bad = await runCli(['--config', configPath, 'throttle-check', 'A1 NO [AUTHENTICATIONFAILED] Authentication failed.']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /not throttling/);
  const busy = await runCli(['--config', configPath, 'throttle-check', '--', '-ERR [IN-USE] Mailbox is locked by another POP3 session.']);
  assert.equal(busy.code, 0, busy.stdout + busy.stderr);
});

it("uses a connection's own pattern and latency, extending or replacing the defaults", async () => {
  const custom = await runCli(['--config', configPath, 'throttle-check', '--connection', 'custom', 'A3 NO slow down please']);
  assert.equal(custom.code, 0, custom.stdout + custom.stderr);
  assert.match(custom.stdout, /matched: slow down please/);
  assert.match(custom.stdout, /wait:\s+45s \(latency\)/);
  const defaults = await runCli(['--config', configPath, 'throttle-check', 'A3 NO slow down please']);
  assert.equal(defaults.code, 1, 'without the connection, the line is not throttling');
  const replaced = await runCli([
    '--config',
    configPath,
    'throttle-check',
    '--connection',
    'only-mine',
    'A4 NO [ALERT] Too many simultaneous connections. (Failure)',
  ]);
  assert.equal(replaced.code, 1, 'replace drops the default text patterns');
});

it('exits 2 on bad usage', async () => {
  const unknown = await runCli(['--config', configPath, 'throttle-check', '--connection', 'nope', 'x']);
  assert.equal(unknown.code, 2);
  const missing = await runCli(['--config', configPath, 'throttle-check']);
  assert.equal(missing.code, 2);
});
