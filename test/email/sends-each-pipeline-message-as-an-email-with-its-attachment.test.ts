import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CloudEvent, HTTP } from 'cloudevents';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from '../graph/graph-kit.ts';
import { buildCorpus, makeEmail, pseudoRandomBytes } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { type FakeSmtp, startFakeSmtp } from '../support/fake-smtp.ts';
import { runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { parse, SENDER, SENDER_PASSWORD, sha256, smtpDestination } from './email-kit.ts';

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
        assert.ok(
          body && body.parsed.attachments.length === 0 && ((body.parsed.text ?? '').length > 0 || typeof body.parsed.html === 'string'),
          `${email.name}: the body is the email's body`,
        );
      }
    }
  });

  it('format cloudevents: the CloudEvents SDK reads each email as an event, its ce- headers the attributes and its attachment the data', async () => {
    const mine = await workspace();
    try {
      const invoice = makeEmail({
        subject: 'CloudEvents by email',
        text: 'see attached\n',
        attachments: [{ filename: 'Rechnung März.pdf', content: pseudoRandomBytes(20_000, 'ce-mail'), contentType: 'application/pdf' }],
      });
      graph.deliver(MAILBOX, invoice.raw);
      const before = smtp.accepted().length;
      const config = testConfig(mine, [graphConnection(graph)], { destinations: { out: smtpDestination(smtp, { format: 'cloudevents' }) } } as never);
      const { delivery } = await runOnce(config);
      assert.equal(delivery.dead, 0, JSON.stringify(delivery));
      const mails = await Promise.all(
        smtp
          .accepted()
          .slice(before)
          .map((received) => parse(received.raw)),
      );
      const attachment = mails.find((mail) => mail.headers.get('x-postroom-kind') === 'attachment');
      assert.ok(attachment, 'the attachment was sent');
      const headers: Record<string, string> = {};
      for (const [name, value] of attachment.headers) if (name.startsWith('ce-')) headers[name] = String(value);
      const file = attachment.attachments[0]!;
      headers['content-type'] = file.contentType;
      const event = HTTP.toEvent({ headers, body: file.content }) as CloudEvent<unknown>;
      assert.equal(event.validate(), true, 'a valid CloudEvents 1.0 event');
      assert.equal(event.id, attachment.headers.get('x-postroom-id'), 'id is the pipeline message id');
      assert.equal(event.type, 'email.attachment.received');
      assert.equal(event.source, '/postroom/connections/inbox365');
      assert.equal(decodeURIComponent(String(event.subject)), 'Rechnung März.pdf', 'subject is the file name (percent-encoded, as in HTTP)');
      assert.equal(event.datacontenttype, 'application/pdf');
      assert.equal(event.sha256, sha256(file.content), 'extension sha256 is the data');
      assert.equal(sha256(file.content), invoice.expected.parts.find((part) => part.kind === 'attachment')!.sha256, 'the data is the attachment, byte-exact');
    } finally {
      await mine.dispose();
    }
  });
});
