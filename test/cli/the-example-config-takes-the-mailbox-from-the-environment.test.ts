/**
 * The README's quick start: postroom.example.yaml, unedited, reads the mailbox from IMAP_*
 * variables, for any port, TLS mode, CA and folder; without them it is valid and off.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { REPO_ROOT, runCli } from '../support/cli.ts';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { readDelivered, type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
let configPath: string;
const PASSWORD = 'pw-example-9d2b';
/** Every variable the example reads, unset (an empty value counts as unset). */
const UNSET = Object.fromEntries(
  ['IMAP_HOST', 'IMAP_PORT', 'IMAP_USE_SSL', 'IMAP_STARTTLS', 'IMAP_CA', 'IMAP_USER', 'IMAP_PASSWORD', 'IMAP_FOLDER', 'IMAP_ENABLED'].map((name) => [name, '']),
);

before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  await dovecot.addUser('example', PASSWORD);
  await dovecot.createFolder('example', 'Orders');
  await dovecot.deliver('example', makeEmail({ subject: 'from the example', text: 'hello' }).raw, { folder: 'Orders' });
  configPath = join(ws.dir, 'postroom.yaml');
  await copyFile(join(REPO_ROOT, 'postroom.example.yaml'), configPath);
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

it('is valid without any IMAP_* variable, and its connection is off', async () => {
  const result = await runCli(['--config', configPath, 'validate'], { env: UNSET });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /connection orders: imap orders@example\.com@127\.0\.0\.1:993 \(TLS\).*\(disabled\)/);
});

it('reads port, TLS mode, CA and folder from the environment: STARTTLS on a plain port', async () => {
  const env = {
    ...UNSET,
    IMAP_HOST: '127.0.0.1',
    IMAP_PORT: String(dovecot.imapPort),
    IMAP_USE_SSL: 'false',
    IMAP_STARTTLS: 'true',
    IMAP_CA: dovecot.caPath,
    IMAP_USER: 'example',
    IMAP_PASSWORD: PASSWORD,
    IMAP_FOLDER: 'Orders',
    IMAP_ENABLED: 'true',
  };
  const validated = await runCli(['--config', configPath, 'validate'], { env });
  assert.equal(validated.code, 0, validated.stderr);
  assert.match(validated.stdout, new RegExp(`connection orders: imap example@127\\.0\\.0\\.1:${dovecot.imapPort} \\(STARTTLS\\)`));
  const result = await runCli(['--config', configPath, 'run', '--once'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /orders: 1 new email\(s\)/);
  const delivered = await readDelivered(join(ws.dir, 'out'));
  assert.ok(delivered.some((message) => message.envelope.email.subject === 'from the example'));
});
