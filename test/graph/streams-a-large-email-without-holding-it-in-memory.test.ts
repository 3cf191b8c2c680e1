import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { graphTokenProvider } from '../../src/auth/provider-for.ts';
import { connectionSchema, type GraphConnectionConfig } from '../../src/config/schema.ts';
import { GraphClient } from '../../src/sources/graph/graph-client.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

/** Far more than the client should ever hold: if it buffered the email, memory would grow by this much. */
const EMAIL_BYTES = 64 * 1024 * 1024;
/** What streaming may cost: socket and stream buffers, a few MB; well under the email's size. */
const MAX_GROWTH_BYTES = 16 * 1024 * 1024;
/** Live memory is measured after a garbage collection every this many bytes read (read chunks are garbage, not held). */
const SAMPLE_EVERY_BYTES = 4 * 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

describe('Graph $value download', () => {
  let graph: FakeGraph;

  before(async () => {
    graph = await fakeGraphWithMailbox();
  });
  after(async () => {
    await graph?.close();
  });

  it("streams a 64 MB email at the reader's pace, never holding it whole", async () => {
    const raw = Buffer.alloc(EMAIL_BYTES, 'a');
    raw.write('Subject: big\r\n\r\n');
    const id = graph.deliver(MAILBOX, raw);
    const connection = connectionSchema.parse(graphConnection(graph)) as GraphConnectionConfig;
    const client = new GraphClient(connection, graphTokenProvider(connection));

    const used = (): number => {
      gc();
      return process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
    };
    const baseline = used();
    let sampledAt = 0;
    let peak = baseline;
    const hash = createHash('sha256');
    let size = 0;
    const stream = await client.download(`messages/${encodeURIComponent(id)}/$value`, 'the big one');
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      // A slow reader: the server must wait for it rather than the client buffering ahead.
      await yieldToLoop();
      if (size - sampledAt >= SAMPLE_EVERY_BYTES) {
        sampledAt = size;
        peak = Math.max(peak, used());
      }
    }
    assert.equal(size, EMAIL_BYTES);
    assert.equal(hash.digest('hex'), createHash('sha256').update(raw).digest('hex'), 'byte-exact');
    assert.ok(peak - baseline < MAX_GROWTH_BYTES, `memory grew by ${Math.round((peak - baseline) / 1e6)} MB while reading a ${EMAIL_BYTES / 1e6} MB email`);
    assert.equal(client.gate.inFlight, 0, 'the download gave its place in the gate back');
  });
});
