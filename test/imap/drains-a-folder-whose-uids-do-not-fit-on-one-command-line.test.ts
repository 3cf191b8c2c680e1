/**
 * A large backlog's UIDs do not fit on one IMAP command line: Dovecot refuses a line longer than
 * `imap_max_line_length` ("BAD Too long argument"; 64 KB by default, which 100,000 UIDs written
 * one by one pass ten times over). Here the limit is 1 KB and 320 unseen emails lie among seen
 * ones: the listing, the fetch and the acknowledgement all keep their lines short (ranges, and
 * several commands), so every unseen email arrives once and is marked seen.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

let dovecot: Dovecot;
let ws: Workspace;
before(async () => {
  [dovecot, ws] = await Promise.all([startDovecot({ extraConfig: 'imap_max_line_length = 1k\n' }), workspace()]);
});
after(async () => {
  await dovecot?.stop();
  await ws?.dispose();
});

it('takes 320 unseen emails scattered among seen ones when the server allows 1 KB per command line', async () => {
  const user = await dovecot.addUser('backlog', 'pw-backlog');
  const unseen: string[] = [];
  for (let group = 0; group < 80; group += 1) {
    const subjects = [0, 1, 2, 3].map((i) => `unseen ${group * 4 + i}`);
    unseen.push(...subjects);
    for (const subject of subjects) await dovecot.deliver(user.name, makeEmail({ subject, text: `${subject}\n` }).raw);
    await dovecot.deliver(user.name, makeEmail({ subject: `seen ${group}`, text: 'read already\n' }).raw, { flags: ['\\Seen'] });
  }
  const { polls } = await runOnce(testConfig(ws, [imapConnection(dovecot, user)]));
  const outcome = polls.get('inbox');
  assert.equal(outcome?.status, 'done', outcome?.status === 'failed' ? outcome.error.message : '');
  const subjects = (await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort();
  assert.deepEqual(subjects, [...unseen].sort(), 'each unseen email once, no seen one');
  const left = (await dovecot.listMessages(user.name)).filter((message) => !message.flags.includes('\\Seen'));
  assert.equal(left.length, 0, 'every email taken is marked \\Seen');
});
