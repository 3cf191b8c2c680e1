import assert from 'node:assert/strict';
import { it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered, runOnce, testConfig } from '../support/postroom.ts';

it('keeps emails whose MOVE the server refused pending, says why, and moves them once the folder exists', async () => {
  const { dovecot, ws } = await dovecotAndWorkspace();
  const user = await dovecot.addUser('refused-move', 'pw-refused-move');
  await dovecot.deliverMany(
    user.name,
    [0, 1, 2].map((i) => makeEmail({ subject: `order ${i}`, text: `body ${i}` }).raw),
  );
  const config = testConfig(ws, [imapConnection(dovecot, user, { moveTo: 'Processed' })]);

  const first = (await runOnce(config)).polls.get('inbox');
  assert.ok(first?.status === 'failed', `the run fails instead of reporting success: ${JSON.stringify(first)}`);
  assert.equal(first.error.code, 'ACK_REFUSED');
  assert.match(
    first.error.explain(),
    /The server refused to acknowledge emails already delivered: 3 email\(s\) already delivered: the server would not move them to "Processed"/,
  );
  assert.match(first.error.explain(), /TRYCREATE/, "the server's own words are shown");
  assert.match(first.error.explain(), /postroom check/);
  assert.equal((await readDelivered(ws.outDir)).length, 3, 'the emails were delivered');
  const left = await dovecot.listMessages(user.name);
  assert.equal(left.length, 3, 'nothing was moved');
  assert.ok(
    left.every((m) => !m.flags.includes('\\Seen')),
    'and nothing marked seen',
  );

  const again = (await runOnce(config)).polls.get('inbox');
  assert.ok(again?.status === 'failed', 'the next run tries the refused acknowledgements again');
  assert.equal(again.error.code, 'ACK_REFUSED');

  await dovecot.createFolder(user.name, 'Processed');
  const fixed = (await runOnce(config)).polls.get('inbox');
  assert.ok(fixed?.status === 'done', JSON.stringify(fixed));
  assert.equal(fixed.result.emails, 0, 'nothing is delivered again');
  assert.equal((await dovecot.listMessages(user.name)).length, 0);
  assert.equal((await dovecot.listMessages(user.name, { folder: 'Processed' })).length, 3);
  const delivered = await readDelivered(ws.outDir);
  assert.deepEqual(delivered.map((d) => d.envelope.email.subject).sort(), ['order 0', 'order 1', 'order 2'], 'each email exactly once');
});
