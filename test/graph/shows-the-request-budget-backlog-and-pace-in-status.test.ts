import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH, startApi } from '../api/api-kit.ts';
import { metricValue, parsePrometheus } from '../api/prometheus-text.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { APP, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** 12 unread in pages of 5: the first page is taken, then Graph throttles the second listing for long. */
const EMAILS = 12;
const PAGE = 5;

describe('status of a Graph connection', () => {
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

  it('shows the requests used in the window, the backlog and the emails per minute in postroom status, /api/status and /metrics', async () => {
    deliverNumbered(graph, EMAILS, 'status');
    let listings = 0;
    graph.inject((request) => request.path.endsWith('/messages') && request.method === 'GET' && ++listings === 2, {
      status: 429,
      retryAfter: '600',
      message: 'Application is over its RequestRate limit.',
    });
    const connection = graphConnection(graph, { name: 'm365' });
    const config = testConfig(ws, [connection], { throttle: { onceWaitMax: 0 } });
    assert.equal((await runOnce(config)).polls.get('m365')?.status, 'throttled');
    const stats = graph.stats(MAILBOX);
    const sent = stats.outlook + stats.batches;
    const expected = { requestsInWindow: sent, requestBudget: 10_000, windowSeconds: 600, backlog: EMAILS - PAGE, emailsPerMinute: PAGE / 10 };

    const path = await writeConfigFile(ws.dir, {
      store: ws.dataDir,
      destinations: { out: { type: 'directory', path: ws.outDir } },
      connections: [{ ...connection, clientSecret: '${GRAPH_SECRET}' }],
    });
    const cli = await runCli(['--config', path, 'status', '--json'], { env: { GRAPH_SECRET: APP.clientSecret } });
    assert.equal(cli.code, 0, cli.stderr);
    const row = (JSON.parse(cli.stdout) as Array<{ connection: string; graph: Record<string, unknown> | null }>).find((r) => r.connection === 'm365');
    assert.deepEqual({ ...row?.graph, backlogAt: undefined }, { ...expected, backlogAt: undefined }, 'postroom status --json');
    const text = await runCli(['--config', path, 'status'], { env: { GRAPH_SECRET: APP.clientSecret } });
    assert.match(
      text.stdout,
      new RegExp(`graph: +${sent} of 10000 requests in the last 10 min; ${EMAILS - PAGE} unread at the last listing \\(.+\\); 0\\.5 email\\(s\\)/min`),
    );

    const api = await startApi(ws, { connections: [connection] });
    try {
      const status = (await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH })).json() as {
        connections: Array<{ name: string; graph: Record<string, unknown> | null }>;
      };
      const graphStatus = status.connections.find((c) => c.name === 'm365')?.graph;
      assert.deepEqual({ ...graphStatus, backlogAt: undefined }, { ...expected, backlogAt: undefined }, '/api/status');
      assert.ok(typeof graphStatus?.backlogAt === 'string' && Date.parse(graphStatus.backlogAt) <= Date.now());
      const metrics = parsePrometheus((await api.app.inject({ method: 'GET', url: '/metrics' })).body);
      assert.equal(metricValue(metrics, 'postroom_graph_requests_in_window', 'm365'), sent);
      assert.equal(metricValue(metrics, 'postroom_graph_request_budget', 'm365'), 10_000);
      assert.equal(metricValue(metrics, 'postroom_graph_backlog', 'm365'), EMAILS - PAGE);
      assert.equal(metricValue(metrics, 'postroom_graph_emails_per_minute', 'm365'), PAGE / 10);
    } finally {
      await api.close();
    }
  });
});
