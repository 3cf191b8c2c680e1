import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { readDelivered, type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
const PASSWORD = 'pw-run-once-7f3a';

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  await dovecot.addUser('runner', PASSWORD);
  await dovecot.deliverMany(
    'runner',
    [1, 2, 3].map(
      (i) =>
        makeEmail({
          subject: `run ${i}`,
          text: `hello ${i}`,
          attachments: [{ filename: `r${i}.csv`, content: Buffer.from(`a,b\n${i},${i}\n`), contentType: 'text/csv' }],
        }).raw,
    ),
  );
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

it('polls, delivers, prints a summary, logs no secret, and exits 0', async () => {
  const path = await writeConfigFile(ws.dir, {
    store: './data',
    destinations: { out: { type: 'directory', path: './out' } },
    connections: [
      {
        name: 'orders',
        hostType: 'imap',
        host: '127.0.0.1',
        port: dovecot.imapsPort,
        username: 'runner',
        password: '${RUNNER_PW}',
        tls: { ca: dovecot.caPath },
      },
    ],
    log: { level: 'debug' },
  });
  const result = await runCli(['--config', path, 'run', '--once'], { env: { RUNNER_PW: PASSWORD } });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /orders: 3 new email\(s\), 6 pipeline message\(s\)/);
  assert.match(result.stdout, /delivered 6 pipeline message\(s\)/);
  assert.doesNotMatch(result.stdout, /\x1b\[/, 'no progress redraws on a pipe');
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(PASSWORD), 'the password is in no log line');
  assert.equal((await readDelivered(`${ws.dir}/out`)).length, 6, 'relative paths are relative to the config file');

  const again = await runCli(['--config', path, 'run', '--once'], { env: { RUNNER_PW: PASSWORD } });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /orders: 0 new email\(s\)/);
});

it('exits 1 and says why when a poll fails', async () => {
  const path = await writeConfigFile(
    ws.dir,
    {
      store: './data-bad',
      destinations: { out: { type: 'directory', path: './out-bad' } },
      connections: [
        {
          name: 'orders',
          hostType: 'imap',
          host: '127.0.0.1',
          port: dovecot.imapsPort,
          username: 'runner',
          password: '${RUNNER_PW}',
          tls: { ca: dovecot.caPath },
        },
      ],
    },
    'bad-password.yaml',
  );
  const result = await runCli(['--config', path, 'run', '--once'], { env: { RUNNER_PW: 'not-the-password-x9' } });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /orders: FAILED: The server refused the login/);
  assert.doesNotMatch(result.stdout + result.stderr, /not-the-password-x9/);
});
