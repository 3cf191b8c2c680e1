import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import { assertCorpusDelivered } from '../support/corpus-assertions.ts';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { pop3Connection, readDelivered, runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';

describe('POP3 intake of the corpus', () => {
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

  it('delivers each body and attachment as its own pipeline message, byte-exact, then deletes the emails', async () => {
    const user = await dovecot.addUser('corpus', 'secret-corpus');
    await dovecot.deliverMany(user.name, corpus.map((email) => email.raw));
    const config = testConfig(ws, [pop3Connection(dovecot, user)]);

    const { polls, delivery } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(outcome.status === 'done' && outcome.result.emails, corpus.length);
    assert.equal(delivery.dead, 0);

    const delivered = await readDelivered(ws.outDir);
    assertCorpusDelivered(corpus, delivered, 'pop3');
    for (const item of delivered) assert.match(item.envelope.source.uidl ?? '', /^[0-9a-f]{16}$/, 'keyed by the UIDL Dovecot hands out');
    const uidls = new Set(delivered.map((d) => d.envelope.source.uidl));
    const withParts = corpus.filter((email) => email.expected.parts.length > 0).length;
    assert.equal(uidls.size, withParts, 'each email has its own UIDL');

    assert.deepEqual(await dovecot.listMessages(user.name), [], 'POP3 always deletes: the mailbox is empty after a successful run');
  });

  it('finds nothing to deliver when it runs again', async () => {
    const before = await readDelivered(ws.outDir);
    const config = testConfig(ws, [pop3Connection(dovecot, { name: 'corpus', password: 'secret-corpus' })]);
    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(outcome.status === 'done' && outcome.result.listed, 0);
    const afterRun = await readDelivered(ws.outDir);
    assert.deepEqual(afterRun.map((d) => d.envelope.id).sort(), before.map((d) => d.envelope.id).sort());
  });
});
