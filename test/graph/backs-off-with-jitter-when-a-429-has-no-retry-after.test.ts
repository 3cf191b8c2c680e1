import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BACKOFF_BASE_MS } from '../../src/throttle/backoff.ts';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { openWorkspaceStore, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

describe('Graph 429 without Retry-After', () => {
  let graph: FakeGraph;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 5);

  before(async () => {
    graph = await fakeGraphWithMailbox();
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  it('pauses the account for an exponential backoff with jitter, sends nothing meanwhile, then goes on', async () => {
    for (const email of corpus) graph.deliver(MAILBOX, email.raw);
    let values = 0;
    graph.inject((request) => request.path.endsWith('/$value') && ++values === 2, { status: 429, code: 'TooManyRequests', message: 'Too many requests' });
    // run --once would wait a short throttle out; here the pause itself is under test.
    const config = testConfig(ws, [graphConnection(graph)], { throttle: { onceWaitMax: 0 } });

    const first = await runOnce(config);
    assert.equal(first.polls.get('inbox365')?.status, 'throttled', JSON.stringify(first.polls.get('inbox365')));
    const throttledAt = graph.requests.at(-1)!.at;
    const opened = await openWorkspaceStore(config);
    const state = await opened.store.getThrottle(`graph/${MAILBOX}`);
    await opened.store.close();
    assert.ok(state);
    const wait = state.until - throttledAt;
    // The first backoff step with equal jitter lies in [base/2, base].
    assert.ok(wait >= BACKOFF_BASE_MS / 2 - 100 && wait <= BACKOFF_BASE_MS + 100, `backoff wait ${wait} ms`);
    assert.match(state.reason, /429/);

    const requests = graph.requests.length;
    assert.equal((await runOnce(config)).polls.get('inbox365')?.status, 'throttled');
    assert.equal(graph.requests.length, requests, 'nothing is sent during the backoff');

    await sleep(state.until - Date.now() + 50);
    assert.equal((await runOnce(config)).polls.get('inbox365')?.status, 'done');
    const delivered = await readDelivered(ws.outDir);
    assert.equal(
      delivered.length,
      corpus.reduce((sum, email) => sum + email.expected.parts.length, 0),
    );
    assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, delivered.length, 'nothing twice');
    const afterThrottle = graph.requests.filter((r) => r.at > throttledAt && r.kind === 'graph');
    assert.ok(
      afterThrottle.every((r) => r.at >= state.until - 5),
      'the first request after the 429 waited for the backoff',
    );
  });
});
