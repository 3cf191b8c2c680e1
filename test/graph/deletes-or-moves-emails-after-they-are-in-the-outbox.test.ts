import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

describe('Graph acknowledgement by delete or move', () => {
  let graph: FakeGraph;
  const workspaces: Workspace[] = [];
  const corpus = buildCorpus().slice(0, 4);

  before(async () => {
    graph = await fakeGraphWithMailbox();
  });
  after(async () => {
    await graph?.close();
    for (const ws of workspaces) await ws.dispose();
  });

  it('deletes each email once it is in the outbox when deleteMessages is on', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const folder = graph.addFolder(MAILBOX, 'Delete me', graph.folderId(MAILBOX, 'inbox'));
    for (const email of corpus) graph.deliver(MAILBOX, email.raw, folder);
    const { polls } = await runOnce(testConfig(ws, [graphConnection(graph, { folder: 'Inbox/Delete me', deleteMessages: true })]));
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    assert.equal(
      (await readDelivered(ws.outDir)).length,
      corpus.reduce((sum, email) => sum + email.expected.parts.length, 0),
    );
    assert.equal(graph.messages(MAILBOX, folder).length, 0, 'every email is deleted');
    assert.equal(graph.requests.filter((r) => r.method === 'DELETE').length, corpus.length);
  });

  it('moves each email to moveTo (a folder path) once it is in the outbox, keeping its immutable id', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const archive = graph.folderId(MAILBOX, 'archive');
    const processed = graph.addFolder(MAILBOX, 'Processed', archive);
    const ids = corpus.map((email) => graph.deliver(MAILBOX, email.raw, 'junkemail'));
    const { polls } = await runOnce(testConfig(ws, [graphConnection(graph, { folder: 'junkemail', moveTo: 'Archive/Processed' })]));
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    assert.equal(graph.messages(MAILBOX, 'junkemail').length, 0);
    assert.deepEqual(
      graph
        .messages(MAILBOX, processed)
        .map((m) => m.id)
        .sort(),
      [...ids].sort(),
      'every email is in Archive/Processed under the same id',
    );
    const delivered = await readDelivered(ws.outDir);
    assert.ok(delivered.every((d) => ids.includes(d.envelope.source.graphId ?? '') && d.envelope.source.folder === 'junkemail'));

    const again = await runOnce(testConfig(ws, [graphConnection(graph, { folder: 'junkemail', moveTo: 'Archive/Processed' })]));
    assert.equal(again.polls.get('inbox365')?.status, 'done');
    assert.equal((await readDelivered(ws.outDir)).length, delivered.length, 'nothing is delivered twice');
  });
});
