import assert from 'node:assert/strict';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, openWorkspaceStore, readDelivered, runOnce, testConfig } from '../support/postroom.ts';

const { dovecot, ws } = await dovecotAndWorkspace();

/** What a rebuilt server index looks like: new UIDVALIDITY, new UIDs, and here even the \Seen flags lost. */
async function rebuildIndex(maildir: string): Promise<void> {
  for (const name of await readdir(maildir)) {
    if (name.startsWith('dovecot')) await rm(join(maildir, name), { recursive: true, force: true });
  }
  for (const name of await readdir(join(maildir, 'cur'))) {
    const unflagged = name.replace(/:2,.*$/, ':2,');
    if (unflagged !== name) await rename(join(maildir, 'cur', name), join(maildir, 'cur', unflagged));
  }
}

it('recognises emails it delivered before by Message-ID and content, and delivers only the new ones', async () => {
  const user = await dovecot.addUser('renumbered', 'pw-renumbered');
  await dovecot.deliverMany(
    user.name,
    [1, 2, 3].map((i) => makeEmail({ subject: `old ${i}`, text: `old ${i}` }).raw),
  );
  const config = testConfig(ws, [imapConnection(dovecot, user)]);
  await runOnce(config);
  assert.equal((await readDelivered(ws.outDir)).length, 3);

  const opened = await openWorkspaceStore(config);
  const before = (await opened.store.getCursor('inbox')) as { uidValidity: string };
  await opened.store.close();

  await sleep(1100); // Dovecot derives UIDVALIDITY from the clock in seconds
  await rebuildIndex(user.maildir);
  await dovecot.deliverMany(
    user.name,
    [4, 5].map((i) => makeEmail({ subject: `new ${i}`, text: `new ${i}` }).raw),
  );

  const { polls } = await runOnce(config);
  const outcome = polls.get('inbox');
  assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
  assert.equal(outcome.result.remapped, 3, 'the three old emails are recognised, not re-sent');
  assert.equal(outcome.result.emails, 2);
  const subjects = (await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort();
  assert.deepEqual(subjects, ['new 4', 'new 5', 'old 1', 'old 2', 'old 3']);

  const reopened = await openWorkspaceStore(config);
  const afterCursor = (await reopened.store.getCursor('inbox')) as { uidValidity: string };
  await reopened.store.close();
  assert.notEqual(afterCursor.uidValidity, before.uidValidity, 'the cursor moved to the new UIDVALIDITY');
  for (const message of await dovecot.listMessages(user.name)) assert.ok(message.flags.includes('\\Seen'));
});
