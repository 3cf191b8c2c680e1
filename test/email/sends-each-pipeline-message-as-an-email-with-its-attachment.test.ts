import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { startFakeSmtp, type FakeSmtp } from '../support/fake-smtp.ts';
import { runOnce, testConfig, workspace, type Workspace } from '../support/postroom.ts';
import { MAILBOX, fakeGraphWithMailbox, graphConnection } from '../graph/graph-kit.ts';
import { SENDER, SENDER_PASSWORD, parse, sha256, smtpDestination } from './email-kit.ts';

describe('email destination over SMTP', () => {
  let graph: FakeGraph;
  let smtp: FakeSmtp;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 10);

  before(async () => {
    graph = await fakeGraphWithMailbox();
    smtp = await startFakeSmtp();
    smtp.users.set(SENDER, SENDER_PASSWORD);
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await smtp?.close();
    await ws?.dispose();
  });

  it('sends every body and attachment picked up as its own email, attachments byte-exact, each with a stable Message-ID', async () => {
    for (const email of corpus) graph.deliver(MAILBOX, email.raw);
    const config = testConfig(ws, [graphConnection(graph)], { destinations: { out: smtpDestination(smtp) } } as never);
    const { polls, delivery } = await runOnce(config);
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    assert.equal(delivery.dead, 0, JSON.stringify(delivery));

    const parts = corpus.reduce((sum, email) => sum + email.expected.parts.length, 0);
    assert.equal(smtp.accepted().length, parts, 'one email per pipeline message');
    const mails = await Promise.all(smtp.accepted().map(async (received) => ({ received, parsed: await parse(received.raw) })));
    for (const { received, parsed } of mails) {
      assert.equal(received.user, SENDER, 'sent after logging in');
      assert.deepEqual(received.to, ['ap@example.test']);
      const id = parsed.headers.get('x-postroom-id');
      assert.equal(parsed.messageId, `<${String(id)}@postroom>`, 'Message-ID is the pipeline message id');
    }
    assert.equal(new Set(mails.map((m) => m.parsed.messageId)).size, mails.length);

    for (const email of corpus) {
      const mine = mails.filter((m) => m.parsed.subject === email.subject);
      assert.equal(mine.length, email.expected.parts.length, email.name);
      const attachments = email.expected.parts.filter((part) => part.kind !== 'body');
      const sent = mine.filter((m) => m.parsed.headers.get('x-postroom-kind') !== 'body');
      assert.deepEqual(
        sent.map((m) => `${m.parsed.attachments[0]?.filename}:${sha256(m.parsed.attachments[0]!.content)}`).sort(),
        attachments.map((part) => `${part.filename}:${part.sha256}`).sort(),
        `${email.name}: each attachment arrives as the attachment of its own email, byte-exact`,
      );
      const body = mine.find((m) => m.parsed.headers.get('x-postroom-kind') === 'body');
      if (email.expected.parts.some((part) => part.kind === 'body')) {
        assert.ok(body && body.parsed.attachments.length === 0 && ((body.parsed.text ?? '').length > 0 || typeof body.parsed.html === 'string'), `${email.name}: the body is the email's body`);
      }
    }
  });
});
