import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => ws?.dispose());

it('reports every problem with its field and line, and exits 2', async () => {
  const path = await writeConfigFile(
    ws.dir,
    [
      'destinations:',
      '  files: { type: directory, path: ./out }',
      'connections:',
      '  - name: orders',
      '    hostType: imap',
      '    host: imap.example.com',
      '    port: "nine-nine-three"',
      '    username: orders@example.com',
      '    password: ${ORDERS_PASSWORD_NOT_SET}',
      '    pollingInterval: soon',
      '  - name: second',
      '    hostType: smtp',
      'outbox:',
      '  keepDelivered: 1d',
      '  keepDeliveredContent: 2d',
      '',
    ].join('\n'),
    'bad.yaml',
  );
  const result = await runCli(['--config', path, 'validate'], { env: { ORDERS_PASSWORD_NOT_SET: '' } });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /connections\[0\]\.port/);
  assert.match(result.stderr, /bad\.yaml:7/, 'the line of the port field');
  assert.match(result.stderr, /connections\[0\]\.pollingInterval: "soon" is not a duration/);
  assert.match(result.stderr, /connections\[0\]\.password: environment variable ORDERS_PASSWORD_NOT_SET is not set/);
  assert.match(result.stderr, /connections\[1\]\.hostType: hostType must be one of imap, pop3, graph/);
  assert.match(result.stderr, /outbox\.keepDeliveredContent: must not be longer than outbox\.keepDelivered \(24h\).*shorten it or lengthen keepDelivered/);
});

it('explains a valid config, with secrets from the environment and a warning for POP3 deletes', async () => {
  const path = await writeConfigFile(ws.dir, {
    destinations: { files: { type: 'directory', path: './out' } },
    connections: [
      { name: 'orders', hostType: 'imap', host: 'imap.example.com', username: 'orders', password: '${ORDERS_PW}' },
      { name: 'legacy', hostType: 'pop3', host: 'pop.example.com', username: 'legacy', password: '${ORDERS_PW}', deleteMessages: false },
    ],
  });
  const result = await runCli(['--config', path, 'validate'], { env: { ORDERS_PW: 'hunter2-secret' } });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /connection orders: imap orders@imap\.example\.com:993 \(TLS\), every 1m, then mark seen, to files/);
  assert.match(result.stdout, /connection legacy: pop3 .*then delete \(POP3 always deletes\)/);
  assert.match(result.stdout, /warning: connections\[1\]\.deleteMessages: POP3 always deletes/);
  assert.doesNotMatch(result.stdout + result.stderr, /hunter2-secret/);
});

it('says where it looked when there is no config file', async () => {
  const empty = join(ws.dir, 'empty');
  await mkdir(empty);
  const result = await runCli(['validate'], { cwd: empty, env: { POSTROOM_CONFIG: '' } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /No configuration file was found.*postroom\.yaml.*Copy postroom\.example\.yaml/s);
});
