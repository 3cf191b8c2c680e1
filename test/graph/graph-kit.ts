/** Shared set-up for the Graph tests: a fake Graph with one app and one mailbox, a connection to it, numbered emails. */
import assert from 'node:assert/strict';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type FakeApp, type FakeGraph, type FakeGraphOptions, startFakeGraph } from '../support/fake-graph.ts';
import { makeEmail } from '../support/mime-writer.ts';
import { readDelivered } from '../support/postroom.ts';

export const TENANT = 'contoso-tenant-0001';
export const MAILBOX = 'invoices@contoso.test';
export const APP: FakeApp = { tenantId: TENANT, clientId: 'app-0001', clientSecret: 's3cret-value-Q~x', roles: ['Mail.ReadWrite', 'Mail.Send'] };

export async function fakeGraphWithMailbox(options: FakeGraphOptions = {}): Promise<FakeGraph> {
  const graph = await startFakeGraph(options);
  graph.addApp(APP);
  graph.addMailbox(MAILBOX);
  return graph;
}

export function graphConnection(graph: FakeGraph, extra: Partial<ConnectionInput> = {}): ConnectionInput {
  return {
    name: 'inbox365',
    hostType: 'graph',
    tenantId: TENANT,
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    mailbox: MAILBOX,
    folder: 'inbox',
    graphEndpoint: graph.url,
    authorityHost: graph.url,
    tls: { ca: graph.caPem },
    pollingInterval: '60s',
    destination: 'out',
    ...extra,
  } as ConnectionInput;
}

/** `count` small emails (every fifth with an attachment), delivered unread; their ids and how many pipeline messages each makes. */
export function deliverNumbered(graph: FakeGraph, count: number, label: string, folder = 'inbox'): Map<string, number> {
  const expected = new Map<string, number>();
  for (let index = 0; index < count; index += 1) {
    const subject = `${label} ${String(index).padStart(4, '0')}`;
    const text = `${subject}\nquantity delivery invoice total\n`;
    const email =
      index % 5 === 4
        ? makeEmail({ subject, text, attachments: [{ filename: `order-${index}.csv`, content: Buffer.from(`id;qty\n${index};1\n`), contentType: 'text/csv' }] })
        : makeEmail({ subject, text });
    expected.set(graph.deliver(MAILBOX, email.raw, folder), email.expected.parts.length);
  }
  return expected;
}

/** Every email of `expected` reached the destination exactly once (each of its parts once), and nothing else did. */
export async function assertDeliveredOnce(outDir: string, expected: Map<string, number>): Promise<void> {
  const delivered = await readDelivered(outDir);
  const parts = new Map<string, number[]>();
  for (const item of delivered) {
    const id = item.envelope.source.graphId ?? '';
    parts.set(id, [...(parts.get(id) ?? []), item.envelope.partIndex]);
  }
  const missing = [...expected.keys()].filter((id) => !parts.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${expected.size} emails never arrived`);
  for (const [id, indexes] of parts) {
    assert.ok(expected.has(id), `an email that was not in the mailbox arrived (${id})`);
    assert.deepEqual(
      [...indexes].sort((a, b) => a - b),
      Array.from({ length: expected.get(id)! }, (_, i) => i),
      `each part of email ${id.slice(-8)} exactly once`,
    );
  }
}
