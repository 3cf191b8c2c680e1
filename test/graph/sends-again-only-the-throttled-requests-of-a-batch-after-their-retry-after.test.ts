import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGraph, SeenRequest } from '../support/fake-graph.ts';
import { runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** Two batches of acknowledgements: 20, then 5. */
const EMAILS = 25;
const RETRY_AFTER_S = 1;

describe('throttling inside a $batch of acknowledgements', () => {
  let graph: FakeGraph;
  let ws: Workspace;

  before(async () => {
    graph = await fakeGraphWithMailbox();
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  it('checks every answer, sends only the throttled ones again after their Retry-After, and reads every email once', async () => {
    const expected = deliverNumbered(graph, EMAILS, 'batch');
    // A 429 for the 7th request of the first batch, a 503 for the 3rd of the second.
    let thirds = 0;
    graph.inject((r) => r.inBatch === '7' && r.method === 'PATCH', {
      status: 429,
      retryAfter: String(RETRY_AFTER_S),
      message: 'Application is over its RequestRate limit.',
    });
    graph.inject((r) => r.inBatch === '3' && r.method === 'PATCH' && ++thirds === 2, {
      status: 503,
      retryAfter: String(RETRY_AFTER_S),
      code: 'ServiceUnavailable',
      message: 'Service Unavailable',
    });

    const { polls } = await runOnce(testConfig(ws, [graphConnection(graph)]));
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    await assertDeliveredOnce(ws.outDir, expected);
    assert.ok(
      graph.messages(MAILBOX).every((message) => message.isRead),
      'none left unread',
    );

    const patches = graph.requests.filter((r) => r.method === 'PATCH');
    assert.ok(
      patches.every((r) => r.inBatch !== undefined),
      'acknowledged in batches only',
    );
    assert.ok(
      patches.some((r) => r.status === 429) && patches.some((r) => r.status === 503),
      `both throttles happened (${patches.map((r) => r.status).join(' ')})`,
    );
    const byMessage = new Map<string, SeenRequest[]>();
    for (const patch of patches) byMessage.set(patch.path, [...(byMessage.get(patch.path) ?? []), patch]);
    assert.equal(byMessage.size, EMAILS);
    for (const [path, tries] of byMessage) {
      const done = tries.findIndex((r) => r.status === 200);
      assert.ok(done >= 0, `${path} was marked read`);
      assert.equal(tries.length, done + 1, `${path}: nothing sent again once Graph said 200`);
      for (let i = 1; i < tries.length; i += 1) {
        assert.ok(
          tries[i]!.at - tries[i - 1]!.at >= RETRY_AFTER_S * 1000 - 50,
          `${path}: sent again only after the Retry-After (${tries[i]!.at - tries[i - 1]!.at} ms)`,
        );
      }
    }
    assert.deepEqual(
      graph.penaltyViolations.map((r) => `${r.method} ${r.path}`),
      [],
      'nothing at all inside a Retry-After window',
    );
  });
});
