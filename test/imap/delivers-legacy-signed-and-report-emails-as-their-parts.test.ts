import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';
import { assertCorpusDelivered, assertParsedParts } from '../support/corpus-assertions.ts';
import { startDovecot, type Dovecot } from '../support/dovecot.ts';
import { imapConnection, readDelivered, runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';

/**
 * The real-world corpus (uuencode, BinHex, lying dispositions, reports, auto-replies, signed and
 * encrypted mail, Apple and Microsoft wrappers) picked up over IMAP in one run: each part as its
 * own pipeline message, byte-exact, with the classification in every envelope.
 */
describe('IMAP intake of the real-world corpus', () => {
  let dovecot: Dovecot;
  let ws: Workspace;
  const corpus = buildRealWorldCorpus();

  before(async () => {
    dovecot = await startDovecot();
    ws = await workspace();
  });
  after(async () => {
    await dovecot?.stop();
    await ws?.dispose();
  });

  it('delivers every part of every email byte-exact, each envelope saying what kind of email it came from', async () => {
    const user = await dovecot.addUser('legacy', 'secret-legacy');
    await dovecot.deliverMany(user.name, corpus.map((email) => email.raw));
    const config = testConfig(ws, [imapConnection(dovecot, user)]);

    const { polls, delivery } = await runOnce(config);
    const outcome = polls.get('inbox');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(delivery.dead, 0);

    const delivered = await readDelivered(ws.outDir);
    assertCorpusDelivered(corpus, delivered, 'imap');
    await assertParsedParts(corpus, delivered);
    assert.equal(delivered.length, corpus.reduce((sum, email) => sum + email.expected.parts.length, 0), 'nothing more than the expected parts');
  });
});
