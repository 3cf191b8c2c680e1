import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

describe('Graph token refused mid-life', () => {
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

  it('fetches a new token once when Graph answers 401 to the cached one, and the run goes on', async () => {
    graph.deliver(MAILBOX, corpus[0]!.raw);
    const config = testConfig(ws, [graphConnection(graph)]);
    assert.equal((await runOnce(config)).polls.get('inbox365')?.status, 'done');
    const tokens = () => graph.requests.filter((r) => r.kind === 'token').length;
    assert.equal(tokens(), 1);

    for (const email of corpus.slice(1)) graph.deliver(MAILBOX, email.raw);
    graph.expireTokens();
    const { polls } = await runOnce(config);
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    assert.equal(tokens(), 2, 'one new token, not one per request');
    const delivered = await readDelivered(ws.outDir);
    assert.equal(
      delivered.length,
      corpus.reduce((sum, email) => sum + email.expected.parts.length, 0),
    );
    assert.ok(graph.messages(MAILBOX).every((message) => message.isRead));
  });
});
