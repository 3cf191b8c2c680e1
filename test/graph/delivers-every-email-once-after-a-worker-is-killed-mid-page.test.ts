import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/model/clock.ts';
import { PostroomService } from '../../src/service/postroom-service.ts';
import { runCli, writeConfigFile } from '../support/cli.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { quietLog, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { APP, assertDeliveredOnce, deliverNumbered, fakeGraphWithMailbox, graphConnection, MAILBOX, TENANT } from './graph-kit.ts';

const PAGE = 6;
/** Past the dead worker's lease (5 s at least) and its delivery claims (a minute). */
const LATER_MS = 61_000;
const EMAILS = 15;

/** Where the worker SIGKILLs itself (src/model/fault-points.ts), each somewhere inside a page. */
const KILL_POINTS = [
  { fault: 'after-commit:8', where: 'two emails of the second page committed, their acknowledgements not sent' },
  { fault: 'during-acknowledge:2', where: 'the second page acknowledged on the server, the ledger not told' },
];

describe('a Graph worker killed in the middle of a page', () => {
  let graph: FakeGraph;
  const workspaces: Workspace[] = [];

  before(async () => {
    graph = await fakeGraphWithMailbox({ pageSize: PAGE });
  });
  after(async () => {
    await graph?.close();
    for (const ws of workspaces) await ws.dispose();
  });

  for (const { fault, where } of KILL_POINTS) {
    it(`delivers every email once and leaves none unread when killed at ${fault} (${where})`, async () => {
      const ws = await workspace();
      workspaces.push(ws);
      const expected = deliverNumbered(graph, EMAILS, fault);
      const path = await writeConfigFile(ws.dir, {
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
            graphEndpoint: graph.url,
            authorityHost: graph.url,
            tls: { ca: graph.caPem },
            pollingInterval: '1s',
          },
        ],
        api: { enabled: false },
      });
      const env = { GRAPH_SECRET: APP.clientSecret };
      const valuesBefore = graph.requests.filter((r) => r.path.endsWith('/$value')).length;

      const killed = await runCli(['--config', path, 'run', '--once'], { env: { ...env, POSTROOM_FAULT: fault } });
      assert.equal(killed.signal, 'SIGKILL', `the worker died at ${fault}: ${killed.stdout}${killed.stderr}`);
      assert.ok(
        graph.messages(MAILBOX).some((message) => !message.isRead),
        'it died with work left',
      );

      // The next run comes a little later, as the next cron run would: the dead worker's lease and
      // its claims on deliveries have run out by then (the clock is moved on, not slept through).
      const config = testConfig(ws, [graphConnection(graph, { name: 'm365', pollingInterval: '1s' })], { api: { enabled: false } });
      const service = await PostroomService.open({
        config,
        log: quietLog,
        mode: 'once',
        clock: { now: () => Date.now() + LATER_MS, sleep: systemClock.sleep },
      });
      try {
        const resumed = await service.runOnce();
        assert.equal(resumed.polls.get('m365')?.status, 'done', JSON.stringify(resumed.polls.get('m365')));
      } finally {
        await service.stop();
      }
      assert.ok(
        graph.messages(MAILBOX).every((message) => message.isRead),
        'none left unread',
      );
      await assertDeliveredOnce(`${ws.dir}/out`, expected);
      const values = graph.requests.filter((r) => r.path.endsWith('/$value')).length - valuesBefore;
      assert.ok(values <= EMAILS + PAGE, `at most the page in hand is fetched again (${values} downloads for ${EMAILS} emails)`);
      assert.deepEqual(graph.penaltyViolations, []);
    });
  }
});
