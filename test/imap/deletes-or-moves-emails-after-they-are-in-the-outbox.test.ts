import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeEmail } from '../support/corpus.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

describe('acknowledging on the IMAP server', () => {
  let dovecot: Dovecot;
  const workspaces: Workspace[] = [];
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
    await Promise.all(workspaces.map((ws) => ws.dispose()));
  });

  const emails = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => makeEmail({ subject: `${prefix} ${i}`, text: `body ${i}` }).raw);

  it('deletes and expunges the emails when deleteMessages is on', async () => {
    const user = await dovecot.addUser('deleter', 'pw-deleter');
    await dovecot.deliverMany(user.name, emails('delete', 4));
    const ws = await workspace();
    workspaces.push(ws);
    const { polls } = await runOnce(testConfig(ws, [imapConnection(dovecot, user, { deleteMessages: true })]));
    assert.equal(polls.get('inbox')?.status, 'done');
    assert.equal((await readDelivered(ws.outDir)).length, 4);
    assert.deepEqual(await dovecot.listMessages(user.name), [], 'the folder is empty: flagged \\Deleted and expunged');
  });

  it('moves the emails to the moveTo folder', async () => {
    const user = await dovecot.addUser('mover', 'pw-mover');
    await dovecot.createFolder(user.name, 'Processed');
    await dovecot.deliverMany(user.name, emails('move', 3));
    const ws = await workspace();
    workspaces.push(ws);
    const { polls } = await runOnce(testConfig(ws, [imapConnection(dovecot, user, { moveTo: 'Processed' })]));
    assert.equal(polls.get('inbox')?.status, 'done');
    assert.equal((await readDelivered(ws.outDir)).length, 3);
    assert.equal((await dovecot.listMessages(user.name)).length, 0);
    assert.equal((await dovecot.listMessages(user.name, { folder: 'Processed' })).length, 3);
  });

  it('takes only unseen mail, and only what arrived after its cursor', async () => {
    const user = await dovecot.addUser('cursor', 'pw-cursor');
    await dovecot.deliver(user.name, makeEmail({ subject: 'read before', text: 'x' }).raw, { flags: ['\\Seen'] });
    await dovecot.deliverMany(user.name, emails('first', 2));
    const ws = await workspace();
    workspaces.push(ws);
    const config = testConfig(ws, [imapConnection(dovecot, user)]);
    await runOnce(config);
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['first 0', 'first 1']);
    await dovecot.append(user.name, makeEmail({ subject: 'later', text: 'y' }).raw);
    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.ok(outcome?.status === 'done');
    assert.equal(outcome.result.listed, 1, 'the second run lists only the new UID');
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject).sort(), ['first 0', 'first 1', 'later']);
  });
});
