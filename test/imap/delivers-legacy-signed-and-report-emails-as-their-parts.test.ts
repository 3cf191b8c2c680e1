/**
 * The real-world corpus (uuencode, BinHex, lying dispositions, reports, auto-replies, signed and
 * encrypted mail, Apple and Microsoft wrappers) picked up over IMAP in one run: each part as its
 * own pipeline message, byte-exact, with the classification in every envelope.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertCorpusDelivered, assertParsedParts } from '../support/corpus-assertions.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { imapConnection, readDelivered, runOnce, testConfig } from '../support/postroom.ts';
import { buildRealWorldCorpus } from '../support/real-world-corpus.ts';

const { dovecot, ws } = await dovecotAndWorkspace();
const corpus = buildRealWorldCorpus();

it('delivers every part of every real-world email byte-exact, each envelope saying what kind of email it came from', async () => {
  const user = await dovecot.addUser('legacy', 'secret-legacy');
  await dovecot.deliverMany(
    user.name,
    corpus.map((email) => email.raw),
  );
  const { polls, delivery } = await runOnce(testConfig(ws, [imapConnection(dovecot, user)]));
  const outcome = polls.get('inbox');
  assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
  assert.equal(delivery.dead, 0);

  const delivered = await readDelivered(ws.outDir);
  assertCorpusDelivered(corpus, delivered, 'imap');
  await assertParsedParts(corpus, delivered);
  assert.equal(
    delivered.length,
    corpus.reduce((sum, email) => sum + email.expected.parts.length, 0),
    'nothing more than the expected parts',
  );
});
