/** Shared set-up for the Graph tests: a fake Graph with one app and one mailbox, and a connection to it. */
import type { ConnectionInput } from '../../src/config/schema.ts';
import { startFakeGraph, type FakeApp, type FakeGraph, type FakeGraphOptions } from '../support/fake-graph.ts';

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
