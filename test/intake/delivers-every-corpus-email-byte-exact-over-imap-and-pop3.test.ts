/**
 * The corpus through the real pickup, over IMAP and over POP3 against one private Dovecot: each
 * body and attachment is its own pipeline message, byte-exact; the server side ends as the
 * protocol says (IMAP: every email kept and marked \Seen; POP3: the mailbox emptied); a second
 * run delivers nothing again. Each protocol runs twice: parsed on the main thread, and on two
 * parse threads (`parsing.threads`), which must deliver the very same pipeline messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { buildCorpus } from '../support/corpus.ts';
import { assertCorpusDelivered } from '../support/corpus-assertions.ts';
import type { Dovecot } from '../support/dovecot.ts';
import { dovecotAndWorkspace } from '../support/dovecot-and-workspace.ts';
import { type Delivered, imapConnection, pop3Connection, readDelivered, runOnce, testConfig, workspace } from '../support/postroom.ts';

const { dovecot } = await dovecotAndWorkspace();
const corpus = buildCorpus();

interface Protocol {
  name: 'imap' | 'pop3';
  connection(dovecot: Dovecot, user: { name: string; password: string }): ConnectionInput;
  /** What the server holds after a successful run. */
  assertServerSide(user: string): Promise<void>;
  /** What only this protocol's keys show. */
  assertKeys?(delivered: Delivered[]): void;
}

const PROTOCOLS: Protocol[] = [
  {
    name: 'imap',
    connection: imapConnection,
    async assertServerSide(user) {
      const onServer = await dovecot.listMessages(user);
      assert.equal(onServer.length, corpus.length, 'nothing is deleted when deleteMessages is off');
      for (const message of onServer) assert.ok(message.flags.includes('\\Seen'), `UID ${message.uid} is marked \\Seen`);
    },
  },
  {
    name: 'pop3',
    connection: pop3Connection,
    async assertServerSide(user) {
      assert.deepEqual(await dovecot.listMessages(user), [], 'POP3 always deletes: the mailbox is empty after a successful run');
    },
    assertKeys(delivered) {
      for (const item of delivered) assert.match(item.envelope.source.uidl ?? '', /^[0-9a-f]{16}$/, 'keyed by the UIDL Dovecot hands out');
      const withParts = corpus.filter((email) => email.expected.parts.length > 0).length;
      assert.equal(new Set(delivered.map((d) => d.envelope.source.uidl)).size, withParts, 'each email has its own UIDL');
    },
  },
];

for (const protocol of PROTOCOLS)
  for (const threads of [0, 2]) {
    describe(`${protocol.name.toUpperCase()} intake of the corpus, ${threads ? `on ${threads} parse threads` : 'parsed on the main thread'}`, async () => {
      const ws = await workspace();
      const user = await dovecot.addUser(`corpus-${protocol.name}-${threads}`, `secret-corpus-${protocol.name}`);
      const config = testConfig(ws, [protocol.connection(dovecot, user)], { parsing: { threads } });

      it('delivers each body and attachment as its own pipeline message, byte-exact, and leaves the server as the protocol says', async () => {
        await dovecot.deliverMany(
          user.name,
          corpus.map((email) => email.raw),
        );
        const { polls, delivery } = await runOnce(config);
        const outcome = polls.get('inbox');
        assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
        assert.equal(outcome.status === 'done' && outcome.result.emails, corpus.length);
        assert.equal(delivery.dead, 0);

        const delivered = await readDelivered(ws.outDir);
        assertCorpusDelivered(corpus, delivered, protocol.name);
        protocol.assertKeys?.(delivered);
        await protocol.assertServerSide(user.name);
      });

      it('delivers nothing twice when it runs again', async () => {
        const earlier = await readDelivered(ws.outDir);
        const { polls } = await runOnce(config);
        const outcome = polls.get('inbox');
        assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
        assert.equal(outcome.status === 'done' && outcome.result.emails, 0);
        const afterRun = await readDelivered(ws.outDir);
        assert.deepEqual(afterRun.map((d) => d.envelope.id).sort(), earlier.map((d) => d.envelope.id).sort());
        await ws.dispose();
      });
    });
  }
