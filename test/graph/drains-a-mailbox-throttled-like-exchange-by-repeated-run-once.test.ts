import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeGraph } from '../support/fake-graph.ts';
import { runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/**
 * The mailbox that never drained while the session listed the whole folder before fetching: pages
 * of 7 and a 429 on every 9th request. 28 emails keep this file at seconds (each 429 costs its
 * 1 s Retry-After); the same mailbox with 500 emails, and one of 10,000, are in the benchmark
 * (`npm run bench -- graph`).
 */
const EMAILS = 28;
const PAGE = 7;
/** The runs took 4 minutes without reading one email; a page-at-a-time drain needs about one run per throttle. */
const MAX_RUNS = 40;

describe('a Graph mailbox throttled like Exchange Online, drained by repeated run --once', () => {
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

  it('reads every email exactly once and leaves none unread, though every run ends at a 429 or 503', async () => {
    const expected = deliverNumbered(graph, EMAILS, 'cron');
    graph.throttleLikeExchange({ every: 9, retryAfter: 1, unavailableEvery: 31 });
    // Each run stops at the first throttle instead of waiting it out: the cron user's case.
    const config = testConfig(ws, [graphConnection(graph)], { throttle: { onceWaitMax: 0 } });

    let runs = 0;
    let throttledRuns = 0;
    let unread = EMAILS;
    while (unread > 0 && runs < MAX_RUNS) {
      const readBefore = EMAILS - unread;
      const { polls } = await runOnce(config);
      runs += 1;
      const outcome = polls.get('inbox365')!;
      assert.ok(outcome.status === 'done' || outcome.status === 'throttled', JSON.stringify(outcome));
      if (outcome.status === 'throttled') {
        throttledRuns += 1;
        // The next run comes once the wait is over, as cron would run it later.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, outcome.until - Date.now()) + 10));
      }
      unread = graph.messages(MAILBOX).filter((message) => !message.isRead).length;
      assert.ok(EMAILS - unread >= readBefore, 'nothing read before comes back unread');
    }
    assert.equal(unread, 0, `drained within ${MAX_RUNS} runs (took ${runs})`);
    await assertDeliveredOnce(ws.outDir, expected);

    const stats = graph.stats(MAILBOX);
    assert.ok(stats.throttled >= 3 && stats.unavailable >= 1, `the fake throttled for real (${JSON.stringify(stats)})`);
    assert.ok(throttledRuns >= 3, `runs ended throttled (${throttledRuns} of ${runs}) and the next one went on from there`);
    assert.deepEqual(
      graph.penaltyViolations.map((r) => `${r.method} ${r.path}`),
      [],
      'no request inside a Retry-After window',
    );
    assert.equal(stats.concurrency, 0, 'never more than 4 requests in flight (no 429 MailboxConcurrency)');
    assert.ok(stats.maxInFlight <= 4);
    assert.deepEqual(
      graph.missingImmutableIds.map((r) => `${r.method} ${r.path}`),
      [],
      'Prefer: IdType="ImmutableId" on every request, inside $batch too',
    );
    const listings = graph.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/messages'));
    assert.ok(
      listings.every((r) => !r.query.has('$skip')),
      'every listing starts at the unread head: a throttled run never has to list the folder again to go on',
    );
  });
});
