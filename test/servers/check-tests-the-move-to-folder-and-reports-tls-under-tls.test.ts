import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';

const PASSWORD = 'pw-check-servers';
let output = '';
let code: number | null = null;

/** The lines `check` printed for one connection. */
function section(name: string): string {
  const start = output.indexOf(`${name} (imap):`);
  assert.ok(start >= 0, output);
  const next = output.slice(start).search(/\n\S/);
  return next < 0 ? output.slice(start) : output.slice(start, start + next);
}

before(async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  await dovecot.addUser('checker', PASSWORD);
  await dovecot.createFolder('checker', 'Done');
  const base = {
    hostType: 'imap',
    host: '127.0.0.1',
    port: dovecot.imapsPort,
    useSsl: true,
    username: 'checker',
    password: '${PW}',
    tls: { ca: dovecot.caPath },
  };
  const plain = { ...base, port: dovecot.imapPort, useSsl: false };
  const configPath = await writeConfigFile(ws.dir, {
    destinations: { out: { type: 'directory', path: './out' } },
    connections: [
      { ...base, name: 'movemissing', moveTo: 'Processed' },
      { ...base, name: 'movethere', moveTo: 'Done' },
      { ...plain, name: 'starttls-untrusted', startTls: true, tls: {} },
      { ...plain, name: 'starttls-offered' },
    ],
  });
  const result = await runCli(['--config', configPath, 'check'], { env: { PW: PASSWORD } });
  output = result.stdout;
  code = result.code;
});

it('fails when the moveTo folder is missing, and says how to create it', () => {
  assert.equal(code, 1);
  const lines = section('movemissing');
  assert.match(lines, /movemissing \(imap\): FAILED/);
  assert.match(lines, /ok\s+folder\s+"INBOX" has/);
  assert.match(
    lines,
    /FAIL folder\s+The folder does not exist on the server: moveTo "Processed": every delivered email would stay in "INBOX" and be tried again each poll\. Create the folder "Processed" in a mail client \(or with the IMAP command CREATE\), or set moveTo to one that exists\. Folders on the server: .*Done/,
  );
});

it('passes a moveTo folder that exists', () => {
  assert.match(section('movethere'), /movethere \(imap\): OK[\s\S]*ok\s+folder\s+moveTo "Done" exists/);
});

it('reports a certificate refused during STARTTLS under tls, not login', () => {
  const lines = section('starttls-untrusted');
  assert.match(lines, /FAIL tls\s+The server certificate is not trusted/);
  assert.doesNotMatch(lines, /login/);
});

it('says a plain connection was upgraded through STARTTLS', () => {
  const lines = section('starttls-offered');
  assert.match(lines, /ok\s+tls\s+upgraded with STARTTLS/);
  assert.match(lines, /ok\s+login\s+logged in as checker over TLS/);
});
