import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshGraphTokenProvider } from '../../src/auth/provider-for.ts';
import { connectionSchema, type GraphConnectionConfig } from '../../src/config/schema.ts';
import { GraphClient } from '../../src/sources/graph/graph-client.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { makeEmail } from '../support/mime-writer.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** How long the fake takes over each request, so requests overlap. */
const LATENCY_MS = 400;

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  for await (const _ of stream);
}

describe('429 MailboxConcurrency', () => {
  let graph: FakeGraph;
  let connection: GraphConnectionConfig;

  before(async () => {
    graph = await fakeGraphWithMailbox({ latencyMs: LATENCY_MS });
    connection = connectionSchema.parse(graphConnection(graph)) as GraphConnectionConfig;
  });
  after(async () => {
    await graph?.close();
  });

  const folderRequests = () => graph.requests.filter((r) => r.path.endsWith('/mailFolders/inbox'));

  it('is sent again as soon as one of its own requests to the mailbox has ended, not after a fixed wait', async () => {
    const id = graph.deliver(MAILBOX, makeEmail({ subject: 'concurrency', text: 'x'.repeat(50_000) }).raw);
    const client = new GraphClient(connection, freshGraphTokenProvider(connection));
    // Another process of the same app holds 3 of the mailbox's 4 places.
    const release = graph.occupy(MAILBOX, 3);
    try {
      let downloadEnded = 0;
      const download = client.download(`messages/${encodeURIComponent(id)}/$value`, 'the email').then(async (stream) => {
        await drain(stream);
        downloadEnded = Date.now();
      });
      await sleep(LATENCY_MS / 4);
      const folder = await client.json<{ id?: string }>({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'folder', what: 'the inbox' });
      await download;
      assert.ok(folder?.id, 'the request went through in the end');
      const [refused, retried] = folderRequests();
      assert.equal(refused?.status, 429, 'the fifth request in flight was refused');
      assert.equal(retried?.status, 200);
      assert.ok(retried!.at >= downloadEnded - 5, 'sent again only after its own download had ended');
      assert.ok(retried!.at - refused!.at < 1_000, `without waiting out Retry-After: 1 (${retried!.at - refused!.at} ms)`);
    } finally {
      release();
    }
  });

  it('waits for Retry-After when none of its own requests is in flight (the others are not its own)', async () => {
    const before = folderRequests().length;
    const client = new GraphClient(connection, freshGraphTokenProvider(connection));
    await client.json({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'folder', what: 'the inbox' });
    const release = graph.occupy(MAILBOX, 4);
    setTimeout(release, 1_500);
    await client.json({ method: 'GET', path: 'mailFolders/inbox?$select=id', stage: 'folder', what: 'the inbox' });
    const attempts = folderRequests().slice(before + 1);
    assert.ok(
      attempts.length >= 2 && attempts.at(-1)!.status === 200,
      `refused while the places were taken, then through (${attempts.map((r) => r.status).join(', ')})`,
    );
    for (let i = 1; i < attempts.length; i += 1)
      assert.ok(attempts[i]!.at - attempts[i - 1]!.at >= 950, 'a second between attempts: the clock, as Retry-After says');
  });
});
