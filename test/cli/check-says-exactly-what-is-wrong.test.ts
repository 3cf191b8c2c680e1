import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
let configPath: string;
const PASSWORD = 'pw-check-right';
const WRONG = 'pw-check-WRONG';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  await dovecot.addUser('checker', PASSWORD);
  const base = { hostType: 'imap', host: '127.0.0.1', port: dovecot.imapsPort, useSsl: true, username: 'checker', tls: { ca: dovecot.caPath } };
  configPath = await writeConfigFile(ws.dir, {
    destinations: { out: { type: 'directory', path: './out' } },
    connections: [
      { ...base, name: 'good', password: '${GOOD_PW}' },
      { ...base, name: 'badpass', password: '${BAD_PW}' },
      { ...base, name: 'nofolder', password: '${GOOD_PW}', folder: 'Orders' },
      { ...base, name: 'untrusted', password: '${GOOD_PW}', tls: {} },
      { ...base, name: 'refused', password: '${GOOD_PW}', port: await closedPort() },
      { ...base, name: 'nodns', password: '${GOOD_PW}', host: 'no-such-host.invalid' },
      { ...base, name: 'plainport', password: '${GOOD_PW}', port: dovecot.imapPort },
    ],
  });
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

const check = (name: string) => runCli(['--config', configPath, 'check', name], { env: { GOOD_PW: PASSWORD, BAD_PW: WRONG } });

it('passes a working connection step by step', async () => {
  const result = await check('good');
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /good \(imap\): OK/);
  for (const step of ['dns', 'tcp', 'tls', 'login', 'folder']) assert.match(result.stdout, new RegExp(`ok\\s+${step}`));
  assert.match(result.stdout, /\(verified\)/);
});

it('says the login was refused, without the password', async () => {
  const result = await check('badpass');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL login\s+The server refused the login/);
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(WRONG));
});

it('names a missing folder and lists the folders there are', async () => {
  const result = await check('nofolder');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL folder\s+The folder does not exist on the server: "Orders".*Folders on the server: INBOX/);
});

it('says the certificate is not trusted and what to do', async () => {
  const result = await check('untrusted');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL tls\s+The server certificate is not trusted.*tls\.ca/);
});

it('says the connection was refused', async () => {
  const result = await check('refused');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL tcp\s+The server refused the connection/);
});

it('says the host name does not resolve', async () => {
  const result = await check('nodns');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL dns\s+The host name could not be resolved: no-such-host\.invalid/);
});

it('says when the port does not speak TLS', async () => {
  const result = await check('plainport');
  assert.equal(result.code, 1);
  assert.match(result.stdout, /FAIL tls\s+The TLS handshake failed.*implicit TLS is usually 993/);
});

it('names an unknown connection', async () => {
  const result = await check('nope');
  assert.equal(result.code, 2);
  assert.match(result.stderr, /No connection has that name: "nope".*good, badpass/);
});
