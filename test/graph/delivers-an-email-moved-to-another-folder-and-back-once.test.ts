import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGraph } from '../support/fake-graph.ts';
import { readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/**
 * Immutable ids (Prefer: IdType="ImmutableId") stay the same when a message moves between folders
 * of the mailbox, and the ledger keys emails by them: an email that comes back is known.
 */
describe('an email moved to another folder and back', () => {
  let graph: FakeGraph;
  const workspaces: Workspace[] = [];

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: 3 });
  });
  after(async () => {
    await graph?.close();
    for (const ws of workspaces) await ws.dispose();
  });

  it('is delivered once when someone moves it away while Postroom reads it, then back, then marks it unread', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const expected = deliverNumbered(graph, 6, 'away');
    const wanderer = [...expected.keys()][1]!;
    // While the run is in the middle of the first page, someone moves the email to the archive.
    graph.inject(
      (request) => {
        if (request.path.endsWith(`/${encodeURIComponent(wanderer)}/$value`)) graph.move(MAILBOX, wanderer, 'archive');
        return false;
      },
      { status: 500 },
    );
    const config = testConfig(ws, [graphConnection(graph)]);
    assert.equal((await runOnce(config)).polls.get('inbox365')?.status, 'done');
    assert.equal(graph.messages(MAILBOX, 'archive').find((m) => m.id === wanderer)?.isRead, true, 'read and marked read where it went, by its immutable id');

    // ... then back, and marked unread again: the next run lists it, knows it, and only marks it read.
    graph.move(MAILBOX, wanderer, 'inbox');
    graph.markUnread(MAILBOX, wanderer);
    const again = await runOnce(config);
    const outcome = again.polls.get('inbox365');
    assert.equal(outcome?.status, 'done');
    assert.equal(outcome.status === 'done' && outcome.result.emails, 0, 'nothing new');
    assert.equal(outcome.status === 'done' && outcome.result.alreadyEmitted, 1, 'it was recognised');
    assert.ok(graph.messages(MAILBOX).every((m) => m.isRead));
    await assertDeliveredOnce(ws.outDir, expected);
    assert.deepEqual(graph.missingImmutableIds, []);
  });

  it('is delivered once when it comes back to the folder after Postroom moved it out (moveTo)', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const expected = deliverNumbered(graph, 5, 'moved', 'junkemail');
    const config = testConfig(ws, [graphConnection(graph, { folder: 'junkemail', moveTo: 'archive' })]);
    assert.equal((await runOnce(config)).polls.get('inbox365')?.status, 'done');
    assert.equal(graph.messages(MAILBOX, 'junkemail').length, 0);
    const delivered = (await readDelivered(ws.outDir)).length;

    // Someone moves two back (they are still unread: moving out is the acknowledgement here).
    const back = [...expected.keys()].slice(0, 2);
    for (const id of back) graph.move(MAILBOX, id, 'junkemail');
    const again = await runOnce(config);
    assert.equal(again.polls.get('inbox365')?.status, 'done');
    assert.equal((await readDelivered(ws.outDir)).length, delivered, 'nothing delivered twice');
    assert.equal(graph.messages(MAILBOX, 'junkemail').length, 0, 'moved out again');
    assert.ok(
      back.every((id) => graph.messages(MAILBOX, 'archive').some((m) => m.id === id)),
      'under the same ids',
    );
    await assertDeliveredOnce(ws.outDir, expected);
  });
});
