import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildCorpus } from '../support/corpus.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { openWorkspaceStore, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** Seconds Graph asks to wait in this test: long enough to try (and fail) to read during it, short for the suite. */
const RETRY_AFTER_S = 2;

describe('Graph throttling with Retry-After', () => {
  let graph: FakeGraph;
  let ws: Workspace;
  const corpus = buildCorpus().slice(0, 8);

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: 3 });
    ws = await workspace();
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  for (const status of [429, 503]) {
    it(`stops at a ${status} with Retry-After, reads nothing during the wait, then delivers every email exactly once`, async () => {
      const subjects = new Set(corpus.map((email) => `${status} ${email.subject}`));
      for (const email of corpus) graph.deliver(MAILBOX, Buffer.from(email.raw.toString('latin1').replace(/^Subject: /m, `Subject: ${status} `), 'latin1'));
      let values = 0;
      graph.inject((request) => request.path.endsWith('/$value') && ++values === 3, {
        status,
        retryAfter: String(RETRY_AFTER_S),
        code: status === 429 ? 'ApplicationThrottled' : 'ServiceUnavailable',
        message: status === 429 ? 'Application is over its RequestRate limit.' : 'Service Unavailable',
      });
      // run --once would wait a short throttle out; here the pause itself is under test.
      const config = testConfig(ws, [graphConnection(graph)], { throttle: { onceWaitMax: 0 } });

      const first = await runOnce(config);
      const throttled = first.polls.get('inbox365');
      assert.equal(throttled?.status, 'throttled', JSON.stringify(throttled));
      const opened = await openWorkspaceStore(config);
      const state = await opened.store.getThrottle(`graph/${MAILBOX}`);
      await opened.store.close();
      assert.ok(state, 'the account throttle is in the store for every worker');
      const wait = state.until - Date.now();
      assert.ok(wait > 0 && wait <= RETRY_AFTER_S * 1000, `the wait comes from Retry-After (${wait} ms left)`);

      const requestsBefore = graph.requests.length;
      const during = await runOnce(config);
      assert.equal(during.polls.get('inbox365')?.status, 'throttled');
      assert.equal(graph.requests.length, requestsBefore, 'no request reaches Graph while the penalty runs');

      await sleep(state.until - Date.now() + 50);
      const resumed = await runOnce(config);
      assert.equal(resumed.polls.get('inbox365')?.status, 'done', JSON.stringify(resumed.polls.get('inbox365')));

      const delivered = (await readDelivered(ws.outDir)).filter((d) => subjects.has(d.envelope.email.subject ?? ''));
      const expected = corpus.reduce((sum, email) => sum + email.expected.parts.length, 0);
      assert.equal(delivered.length, expected, 'every part of every email, once');
      assert.equal(new Set(delivered.map((d) => d.envelope.id)).size, delivered.length);
      for (const email of corpus) {
        const parts = delivered
          .filter((d) => d.envelope.email.subject === `${status} ${email.subject}`)
          .sort((a, b) => a.envelope.partIndex - b.envelope.partIndex);
        assert.deepEqual(
          parts.filter((p) => p.envelope.kind === 'attachment').map((p) => p.sha256),
          email.expected.parts.filter((p) => p.kind === 'attachment').map((p) => p.sha256),
          `${email.name} attachments byte-exact`,
        );
      }
      assert.ok(
        graph.messages(MAILBOX).every((message) => message.isRead),
        'every email ends up read',
      );
      assert.deepEqual(
        graph.penaltyViolations.map((r) => `${r.method} ${r.path}`),
        [],
        'no request arrived during the penalty',
      );
    });
  }
});
