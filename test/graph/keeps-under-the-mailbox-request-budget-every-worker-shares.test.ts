import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshGraphTokenProvider } from '../../src/auth/provider-for.ts';
import type { GraphConnectionConfig } from '../../src/config/schema.ts';
import { GraphClient } from '../../src/sources/graph/graph-client.ts';
import { budgetAccount } from '../../src/sources/graph/request-budget.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { openWorkspaceStore, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { APP, assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** A budget small enough that 16 emails need three windows of it: Graph's is 10,000 per 10 minutes. */
const BUDGET = { requests: 30, windowMs: 3_000 };
/** Requests another worker of the same mailbox spent just before this one starts. */
const SPENT_ELSEWHERE = 20;

describe('the Graph request budget', () => {
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

  it('paces itself under the budget, counting every request in the store the workers share, so Graph never throttles it', async () => {
    const expected = deliverNumbered(graph, 16, 'budget');
    graph.setBudget(BUDGET);
    const config = testConfig(ws, [graphConnection(graph, { requestBudget: { requests: BUDGET.requests, window: `${BUDGET.windowMs}ms` } })]);
    const account = budgetAccount(graph.url, APP.clientId, MAILBOX);
    const connection = config.connections[0] as GraphConnectionConfig;

    // Another worker of the same store used most of the window a moment ago: its requests count here too.
    const opened = await openWorkspaceStore(config);
    await opened.store.migrate();
    const startedAt = Date.now();
    const elsewhere = new GraphClient(connection, freshGraphTokenProvider(connection), { requests: opened.store, budget: BUDGET });
    for (let i = 0; i < SPENT_ELSEWHERE; i += 1)
      await elsewhere.json({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'folder', what: 'the inbox' });
    // And the token runs out mid-run: the retry with a fresh one is a request like any other.
    let values = 0;
    graph.inject((request) => request.path.endsWith('/$value') && ++values === 5, {
      status: 401,
      code: 'InvalidAuthenticationToken',
      message: 'Access token has expired or is not yet valid.',
    });

    const { polls } = await runOnce(config);
    const tookMs = Date.now() - startedAt;
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    await assertDeliveredOnce(ws.outDir, expected);

    assert.deepEqual(
      graph.budgetViolations.map((r) => `${r.method} ${r.path}`),
      [],
      'Graph never had to refuse a request for the budget',
    );
    const busiest = graph.busiestWindow(MAILBOX, BUDGET.windowMs);
    assert.ok(busiest <= BUDGET.requests, `at most ${BUDGET.requests} in any ${BUDGET.windowMs} ms, the other worker's included (busiest: ${busiest})`);
    const stats = graph.stats(MAILBOX);
    const sent = stats.outlook + stats.batches;
    assert.ok(sent - SPENT_ELSEWHERE > BUDGET.requests, `the drain needed more than one window (${sent - SPENT_ELSEWHERE} requests)`);
    assert.ok(tookMs >= BUDGET.windowMs, `so it waited for room (${tookMs} ms)`);

    const counted = (await opened.store.requestBuckets(account, 0)).reduce((sum, bucket) => sum + bucket.requests, 0);
    await opened.store.close();
    assert.equal(counted, sent, "every request is in the store: both workers', each $batch envelope and request inside it, and the retry after the 401");
  });
});
