import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP, assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, MAILBOX, TENANT } from '../graph/graph-kit.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { type Workspace, workspace } from '../support/postroom.ts';

/** EX_TEMPFAIL (sysexits.h): not a failure, try again later. */
const EX_TEMPFAIL = 75;
/** A penalty far longer than throttle.onceWaitMax. */
const LONG_RETRY_AFTER_S = 600;

describe('run --once under throttling', () => {
  let graph: FakeGraph;
  let ws: Workspace;
  let configPath: string;

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: 5 });
    ws = await workspace();
    configPath = await writeConfigFile(ws.dir, {
      store: './data',
      destinations: { out: { type: 'directory', path: './out' } },
      connections: [
        {
          name: 'm365',
          hostType: 'graph',
          tenantId: TENANT,
          clientId: APP.clientId,
          clientSecret: '${GRAPH_SECRET}',
          mailbox: MAILBOX,
          folder: 'inbox',
          graphEndpoint: graph.url,
          authorityHost: graph.url,
          tls: { ca: graph.caPem },
        },
      ],
      api: { enabled: false },
    });
  });
  after(async () => {
    await graph?.close();
    await ws?.dispose();
  });

  const run = () => runCli(['--config', configPath, 'run', '--once'], { env: { GRAPH_SECRET: APP.clientSecret } });

  it('waits out throttles shorter than throttle.onceWaitMax and finishes the job, exiting 0', async () => {
    const expected = deliverNumbered(graph, 12, 'short');
    graph.throttleLikeExchange({ every: 7, retryAfter: 1 });
    const result = await run();
    graph.throttleLikeExchange(undefined);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /m365: 12 new email\(s\)/);
    assert.ok(graph.stats(MAILBOX).throttled >= 2, 'it was throttled on the way');
    assert.ok(
      graph.messages(MAILBOX).every((message) => message.isRead),
      'nothing is left unread',
    );
    await assertDeliveredOnce(`${ws.dir}/out`, expected);
    assert.deepEqual(graph.penaltyViolations, [], 'each wait lasted its Retry-After');
  });

  it('ends cleanly with exit code 75 and says when reading can resume when the throttle is longer', async () => {
    deliverNumbered(graph, 3, 'long');
    graph.inject((request) => request.path.endsWith('/messages') && request.method === 'GET', {
      status: 429,
      retryAfter: String(LONG_RETRY_AFTER_S),
      code: 'ApplicationThrottled',
      message: 'Application is over its RequestRate limit.',
    });
    const startedAt = Date.now();
    const result = await run();
    assert.equal(result.code, EX_TEMPFAIL, `${result.stdout}\n${result.stderr}`);
    const resume = /m365: throttled by the provider .*reading can resume at (\S+) \(in (\d+) min\): run again then/.exec(result.stdout);
    assert.ok(resume, result.stdout);
    const at = Date.parse(resume[1]!);
    assert.ok(Math.abs(at - (startedAt + LONG_RETRY_AFTER_S * 1000)) < 15_000, `resumes after the Retry-After (${resume[1]})`);
    assert.equal(graph.messages(MAILBOX).filter((message) => !message.isRead).length, 3, 'the new emails wait on the server');

    const requests = graph.requests.length;
    const again = await run();
    assert.equal(again.code, EX_TEMPFAIL, 'a run during the throttle ends the same way');
    assert.match(again.stdout, /reading can resume at/);
    assert.equal(graph.requests.length, requests, 'and sends nothing to Graph');
  });
});
