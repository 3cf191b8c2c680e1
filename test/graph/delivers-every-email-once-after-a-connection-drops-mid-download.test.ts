import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus, LARGE_ATTACHMENT_NAME, largeAttachmentEmail, largeAttachmentSha256 } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** Big enough that $value arrives in many chunks and the cut lands well inside it. */
const LARGE_BYTES = 3 * 1024 * 1024;

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

describe('Graph $value cut off', () => {
  let graph: FakeGraph;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 4);

  before(async () => {
    graph = await fakeGraphWithMailbox();
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  it('never takes a cut-off download for an email, and delivers every email once on the next run', async () => {
    for (const email of corpus.slice(0, 2)) graph.deliver(MAILBOX, email.raw);
    const largeId = graph.deliver(MAILBOX, await readAll(largeAttachmentEmail(LARGE_BYTES)));
    for (const email of corpus.slice(2)) graph.deliver(MAILBOX, email.raw);
    graph.inject((request) => request.path.endsWith(`/${encodeURIComponent(largeId)}/$value`), { dropAfterBytes: LARGE_BYTES / 2 });
    const config = testConfig(ws, [graphConnection(graph)]);

    const first = await runOnce(config);
    const outcome = first.polls.get('inbox365');
    assert.equal(outcome?.status, 'failed', JSON.stringify(outcome));
    assert.equal(outcome.status === 'failed' && outcome.error.code, 'CONNECTION_LOST');
    const large = graph.messages(MAILBOX).find((message) => message.id === largeId)!;
    assert.equal(large.isRead, false, 'the cut-off email is left unread on the server');
    const partial = await readDelivered(ws.outDir);
    assert.ok(
      partial.every((d) => d.envelope.source.graphId !== largeId),
      'nothing of the cut-off email was delivered',
    );

    const second = await runOnce(config);
    assert.equal(second.polls.get('inbox365')?.status, 'done', JSON.stringify(second.polls.get('inbox365')));
    const delivered = await readDelivered(ws.outDir);
    const expected = corpus.reduce((sum, email) => sum + email.expected.parts.length, 0);
    const largeParts = delivered.filter((d) => d.envelope.source.graphId === largeId);
    assert.equal(delivered.length - largeParts.length, expected, 'every corpus email once');
    const attachment = largeParts.find((d) => d.envelope.filename === LARGE_ATTACHMENT_NAME);
    assert.equal(attachment?.sha256, largeAttachmentSha256(LARGE_BYTES), 'the large attachment arrives whole, byte-exact');
    assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, delivered.length, 'nothing twice');
    assert.ok(graph.messages(MAILBOX).every((message) => message.isRead));
  });
});
