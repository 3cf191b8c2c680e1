import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { bySubject, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** Small pages, so the corpus spans several: each is taken whole before the next is listed. */
const PAGE_SIZE = 4;

describe('Graph intake of the corpus', () => {
  let graph: FakeGraph;
  let ws: Workspace;
  const corpus = buildCorpus();

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: PAGE_SIZE });
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  it('delivers each body and attachment byte-exact through $value, then marks every email read', async () => {
    const ids = corpus.map((email) => graph.deliver(MAILBOX, email.raw));
    const config = testConfig(ws, [graphConnection(graph)]);

    const { polls, delivery } = await runOnce(config);
    const outcome = polls.get('inbox365');
    assert.equal(outcome?.status, 'done', JSON.stringify(outcome));
    assert.equal(delivery.dead, 0);
    assert.equal(outcome.status === 'done' && outcome.result.emails, corpus.length);

    const pages = graph.requests.filter((r) => r.path.endsWith('/messages') && r.method === 'GET');
    assert.equal(pages.length, Math.ceil(corpus.length / PAGE_SIZE), 'one listing per page: the unread head, again after each page is acknowledged');
    assert.ok(
      pages.every((r) => !r.query.has('$skip')),
      'no stale nextLink: marking read shifts what $skip points at',
    );
    assert.ok(
      pages.every((r) => r.query.get('$select') === 'id' && r.query.get('$top') === '1000' && r.query.get('$orderby') === 'receivedDateTime asc'),
      "Graph's largest page, only the id, oldest first",
    );
    const valuesBefore = (page: number): number => graph.requests.filter((r) => r.path.endsWith('/$value') && r.at < pages[page]!.at).length;
    assert.ok(
      pages.slice(1).every((_, index) => valuesBefore(index + 1) === (index + 1) * PAGE_SIZE),
      'each page is fetched before the next is listed',
    );
    const acknowledgements = graph.requests.filter((r) => r.method === 'PATCH');
    assert.equal(acknowledgements.length, corpus.length, 'each email marked read once');
    assert.ok(
      acknowledgements.every((r) => r.inBatch !== undefined),
      'marked read inside $batch requests',
    );

    const delivered = await readDelivered(ws.outDir);
    const groups = bySubject(delivered);
    for (const email of corpus) {
      const got = groups.get(email.subject) ?? [];
      assert.equal(got.length, email.expected.parts.length, `${email.name}: ${got.map((g) => `${g.envelope.kind}:${g.envelope.filename}`).join(', ')}`);
      got.sort((a, b) => a.envelope.partIndex - b.envelope.partIndex);
      email.expected.parts.forEach((expected, index) => {
        const part = got[index]!;
        assert.equal(part.envelope.kind, expected.kind, `${email.name} part ${index} kind`);
        assert.equal(part.envelope.filename, expected.filename, `${email.name} part ${index} filename`);
        assert.equal(part.sha256, expected.sha256, `${email.name} part ${index} (${expected.filename}) is byte-exact`);
        assert.equal(part.envelope.source.protocol, 'graph');
        assert.equal(part.envelope.source.folder, 'inbox');
        assert.ok(ids.includes(part.envelope.source.graphId ?? ''), 'the envelope carries the Graph message id');
      });
    }
    assert.ok(
      graph.messages(MAILBOX).every((message) => message.isRead),
      'every email is marked read',
    );
    const graphCalls = graph.requests.filter((r) => r.kind === 'graph');
    assert.ok(
      graphCalls.every((r) => r.prefer === 'IdType="ImmutableId"'),
      'every Graph request asks for immutable ids',
    );
    assert.ok(graph.maxInFlight(MAILBOX) <= 4, `at most 4 requests in flight for the mailbox (saw ${graph.maxInFlight(MAILBOX)})`);
    assert.equal(graph.requests.filter((r) => r.kind === 'token').length, 1, 'one token serves the whole run');
  });

  it('delivers nothing twice when it runs again', async () => {
    const before = (await readDelivered(ws.outDir)).map((d) => d.envelope.id).sort();
    const { polls } = await runOnce(testConfig(ws, [graphConnection(graph)]));
    const outcome = polls.get('inbox365');
    assert.equal(outcome?.status, 'done');
    assert.equal(outcome.status === 'done' && outcome.result.listed, 0);
    assert.deepEqual((await readDelivered(ws.outDir)).map((d) => d.envelope.id).sort(), before);
  });
});
