import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import { assertCorpusDelivered } from '../support/corpus-assertions.ts';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';

describe('IMAP intake of the corpus', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  const corpus = buildCorpus();

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
  });
  after(async () => {
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('delivers each body and attachment as its own pipeline message, byte-exact, then marks the emails seen', async () => {
    const user = await dovecot.addUser('corpus', 'secret-corpus');
    await dovecot.deliverMany(user.name, corpus.map((email) => email.raw));
    const config = testConfig(ws, [imapConnection(dovecot, user)]);

    const { polls, delivery } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(delivery.dead, 0);

    const delivered = await readDelivered(ws.outDir);
    assertCorpusDelivered(corpus, delivered, 'imap');

    const onServer = await dovecot.listMessages(user.name);
    assert.equal(onServer.length, corpus.length, 'nothing is deleted when deleteMessages is off');
    for (const message of onServer) assert.ok(message.flags.includes('\\Seen'), `UID ${message.uid} is marked \\Seen`);
  });

  it('delivers nothing twice when it runs again', async () => {
    const before = await readDelivered(ws.outDir);
    const config = testConfig(ws, [imapConnection(dovecot, { name: 'corpus', password: 'secret-corpus' })]);
    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done');
    assert.equal(outcome.status === 'done' && outcome.result.emails, 0);
    const afterRun = await readDelivered(ws.outDir);
    assert.deepEqual(afterRun.map((d) => d.envelope.id), before.map((d) => d.envelope.id));
  });
});
