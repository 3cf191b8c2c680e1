import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDestination } from '../../src/destinations/registry.ts';
import { Worker } from '../../src/engine/worker.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { openWorkspaceStore, quietLog, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { waitFor } from '../support/wait-for.ts';
import { assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/**
 * The throttled mailbox of the run --once test, read by the service: pages of 7 and a 429 on every
 * 9th request. 28 emails keep this file at seconds; 500 and 10,000 are in `npm run bench -- graph`.
 */
const EMAILS = 28;
const PAGE = 7;
const DRAIN_TIMEOUT_MS = 60_000;

describe('a Graph mailbox throttled like Exchange Online, drained by the service', () => {
  let graph: FakeGraph;
  let ws: Workspace;

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: PAGE });
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  it('reads every email exactly once, pauses for each Retry-After and never sends inside one', async () => {
    const expected = deliverNumbered(graph, EMAILS, 'service');
    graph.throttleLikeExchange({ every: 9, retryAfter: 1 });
    const config = testConfig(ws, [graphConnection(graph, { pollingInterval: '1s' })]);
    const opened = await openWorkspaceStore(config);
    const worker = new Worker({ createDestination, config, opened, log: quietLog });
    try {
      worker.start();
      await waitFor('every email read', () => graph.messages(MAILBOX).every((message) => message.isRead), DRAIN_TIMEOUT_MS, 100);
      await waitFor('every pipeline message delivered', async () => (await opened.store.outboxDepth('inbox365')) === 0, DRAIN_TIMEOUT_MS, 100);
    } finally {
      await worker.stop();
      await opened.store.close();
    }
    await assertDeliveredOnce(ws.outDir, expected);
    const stats = graph.stats(MAILBOX);
    assert.ok(stats.throttled >= 3, `the fake throttled for real (${JSON.stringify(stats)})`);
    assert.deepEqual(
      graph.penaltyViolations.map((r) => `${r.method} ${r.path}`),
      [],
      'no request inside a Retry-After window',
    );
    assert.equal(stats.concurrency, 0, 'never more than 4 requests in flight');
    assert.deepEqual(
      graph.missingImmutableIds.map((r) => `${r.method} ${r.path}`),
      [],
    );
  });
});
