/**
 * `postroom preview` says, per email, what the next poll will do (taken or left, the deciding
 * condition, where each part goes) and changes nothing; `run --once` then does exactly that.
 * After the filter changes, `postroom rescan` has the next poll judge the left-alone emails again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import type { PreviewRow } from '../../src/engine/preview-connection.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { deliveredByRoute, INVOICE_RULES, LEFT, MAILBOX, ROUTED } from '../support/filter-mailbox.ts';
import { imapConnection, readDelivered, type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

async function configFile(connection: ConnectionInput): Promise<string> {
  return writeConfigFile(ws.dir, {
    store: ws.dataDir,
    destinations: {
      out: { type: 'directory', path: ws.outDir },
      pdfs: { type: 'directory', path: join(ws.dir, 'pdfs') },
      bodies: { type: 'directory', path: join(ws.dir, 'bodies') },
    },
    connections: [connection],
    log: { level: 'warn' },
  });
}

it('preview matches what run --once then does, changes nothing, and rescan judges the left-alone emails again', async () => {
  const user = await dovecot.addUser('preview', 'pw-preview');
  await dovecot.deliverMany(
    user.name,
    MAILBOX.map((email) => email.raw),
  );
  const connection = imapConnection(dovecot, user, { name: 'invoices', ...INVOICE_RULES } as Partial<ConnectionInput>);
  const path = await configFile(connection);

  const preview = await runCli(['--config', path, 'preview', 'invoices', '--json']);
  assert.equal(preview.code, 0, preview.stderr);
  const rows = JSON.parse(preview.stdout) as PreviewRow[];
  assert.deepEqual(
    rows.map((row) => [row.subject, row.verdict === 'taken' ? 'taken' : row.condition]),
    MAILBOX.map((email) => [email.subject, email.verdict]),
    'each email with its verdict and the deciding condition',
  );
  assert.equal(
    rows.find((row) => row.subject === 'Newsletter July')?.decidedOn,
    'server',
    "the sender decides on the server's search, before the headers are read",
  );
  assert.equal(
    rows.find((row) => row.subject === 'Automatic reply: Invoice 1001')?.decidedOn,
    'headers',
    'an auto-reply is told by its headers, before the download',
  );
  assert.equal(rows.find((row) => row.subject === 'Invoice 1004')?.decidedOn, 'content', 'a missing attachment is only certain once split');
  const predicted = {
    pdfs: rows.flatMap((row) => (row.parts ?? []).filter((p) => p.destination === 'pdfs').map((p) => `${row.subject}/${p.filename}`)).sort(),
    bodies: rows.flatMap((row) => (row.parts ?? []).filter((p) => p.destination === 'bodies').map((p) => `${row.subject}/${p.kind}`)).sort(),
    out: rows.flatMap((row) => (row.parts ?? []).filter((p) => p.destination === 'out').map((p) => `${row.subject}/${p.filename}`)).sort(),
  };
  assert.deepEqual(predicted, ROUTED, 'preview says where each part goes');
  const untouched = await dovecot.listMessages(user.name);
  assert.ok(
    untouched.every((m) => !m.flags.includes('\\Seen')),
    'preview marked nothing seen',
  );
  assert.deepEqual(await readDelivered(ws.outDir), [], 'and emitted nothing');

  const text = await runCli(['--config', path, 'preview', 'invoices', '--limit', '2']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /the next poll sees 2 email\(s\) \(the first 2\): 1 taken, 1 left/);
  assert.match(
    text.stdout,
    /left {3}Newsletter July — news@shop\.example.*\n {7}from: the server's SEARCH FROM "@supplier\.example" found no match for "\*@supplier\.example" .*\(decided by the server's search\)/,
  );

  const run = await runCli(['--config', path, 'run', '--once']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(await deliveredByRoute(ws), predicted, 'run --once did what preview said');
  const after = await runCli(['--config', path, 'preview', 'invoices', '--json']);
  assert.deepEqual(JSON.parse(after.stdout), [], 'nothing is left for the next poll');
  const status = await runCli(['--config', path, 'status']);
  assert.match(status.stdout, /filtered: {4}5 email\(s\) left out \(.*attachmentTypes 1.*\)/, 'status counts the emails filtered per condition');
  for (const condition of ['from', 'autoReplies', 'bounces', 'maxSize']) assert.match(status.stdout, new RegExp(`${condition} 1`));

  // The filter changes to take newsletters too: only after a rescan are the left-alone ones judged again.
  const wider = await configFile({
    ...connection,
    filter: { ...INVOICE_RULES.filter, from: ['*@supplier.example', 'news@*'], subject: ['*'], attachmentTypes: undefined },
  } as ConnectionInput);
  const rescan = await runCli(['--config', wider, 'rescan', 'invoices']);
  assert.equal(rescan.code, 0, rescan.stderr);
  assert.match(rescan.stdout, new RegExp(`invoices: ${LEFT.length} email\\(s\\) left alone by the filter will be judged again`));
  const again = await runCli(['--config', wider, 'run', '--once']);
  assert.equal(again.code, 0, again.stderr);
  const bodies = (await deliveredByRoute(ws)).bodies;
  assert.ok(bodies.includes('Newsletter July/body'), 'the newsletter is taken now');
  assert.ok(bodies.includes('Invoice 1004/body'), 'and the invoice without attachment');
  assert.ok(!bodies.includes('Automatic reply: Invoice 1001/body'), 'the auto-reply is still left out');
  assert.equal(bodies.filter((b) => b === 'Invoice 1001/body').length, 1, 'nothing emitted before is emitted again');
});
