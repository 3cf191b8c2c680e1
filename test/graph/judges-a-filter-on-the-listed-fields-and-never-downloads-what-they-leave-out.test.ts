/**
 * A Graph connection with a filter asks the listing for the fields the filter is judged on
 * (`$select`): an email those fields leave out is never downloaded and stays unread; one they
 * cannot decide (its attachments' types) is downloaded and judged after the split, as before.
 * Without a filter the listing asks for the id alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Config, ConnectionInput } from '../../src/config/schema.ts';
import type { FakeGraph, SeenRequest } from '../support/fake-graph.ts';
import { filterEmail } from '../support/filter-mailbox.ts';
import { pseudoRandomBytes } from '../support/mime-writer.ts';
import { openWorkspaceStore, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';
import { fakeGraphWithMailbox, graphConnection, MAILBOX } from './graph-kit.ts';

const INVOICE = filterEmail('Invoice 1001', 'Billing <billing@supplier.example>', {
  text: 'Invoice 1001 attached.',
  attachments: [{ filename: 'invoice-1001.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7\n1001\n') }],
});
const NOTHING_ATTACHED = filterEmail('Invoice 1004', 'Billing <billing@supplier.example>', { text: 'Invoice to follow, nothing attached.' });
const NEWSLETTERS = Array.from({ length: 6 }, (_, n) =>
  filterEmail(`Newsletter ${n + 1}`, 'Shop News <news@shop.example>', {
    text: 'Our summer offers.',
    attachments: [{ filename: `banner-${n + 1}.png`, contentType: 'image/png', content: pseudoRandomBytes(400_000, `banner-${n}`) }],
  }),
);

/** The `$value` downloads of these message ids. */
function downloadsOf(graph: FakeGraph, ids: string[]): SeenRequest[] {
  const paths = new Set(ids.map((id) => `/v1.0/users/${MAILBOX}/messages/${id}/$value`));
  return graph.requests.filter((r) => r.method === 'GET' && paths.has(decodeURIComponent(r.path)));
}

function listings(graph: FakeGraph): SeenRequest[] {
  return graph.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/messages') && r.query.has('$top'));
}

async function filteredByCondition(config: Config): Promise<Record<string, number>> {
  const opened = await openWorkspaceStore(config);
  try {
    return Object.fromEntries((await opened.store.filteredCounts()).map((row) => [row.condition, row.emails]));
  } finally {
    await opened.store.close();
  }
}

describe('a Graph filter judged on the listed fields', () => {
  let graph: FakeGraph;
  const workspaces: Workspace[] = [];
  before(async () => {
    graph = await fakeGraphWithMailbox();
  });
  after(async () => {
    await graph?.close();
    await Promise.all(workspaces.map((ws) => ws.dispose()));
  });

  /** A fresh folder with `emails` delivered unread, and a connection to it with `extra`. */
  async function mailboxWith(folderName: string, emails: Buffer[], extra: Partial<ConnectionInput>) {
    const ws = await workspace();
    workspaces.push(ws);
    const folder = graph.addFolder(MAILBOX, folderName);
    const ids = emails.map((raw) => graph.deliver(MAILBOX, raw, folder));
    const config = testConfig(ws, [graphConnection(graph, { folder: folderName, ...extra } as Partial<ConnectionInput>)]);
    return { ws, folder, ids, config };
  }

  it('takes the invoice; the newsletters from another sender are never downloaded, stay unread, and are counted filtered by from', async () => {
    const { ws, folder, ids, config } = await mailboxWith('From supplier', [INVOICE, ...NEWSLETTERS], { filter: { from: ['*@supplier.example'] } });
    const [invoiceId, ...newsletterIds] = ids as [string, ...string[]];
    const before = graph.requests.length;

    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox365');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.equal(outcome.result.emails, 1);
    assert.equal(outcome.result.filtered, NEWSLETTERS.length);
    assert.deepEqual(outcome.result.filteredBy, { from: NEWSLETTERS.length }, 'each newsletter left out by from');
    assert.deepEqual([...new Set((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject))], ['Invoice 1001'], 'only the invoice is emitted');

    const listed = listings(graph).slice(-1)[0];
    assert.equal(listed?.query.get('$select'), 'id,from', 'the listing asks for the sender, the one field this filter needs');
    assert.deepEqual(downloadsOf(graph, newsletterIds), [], 'no newsletter was downloaded');
    assert.equal(downloadsOf(graph, [invoiceId]).length, 1, 'the invoice was');
    const unread = graph
      .messages(MAILBOX, folder)
      .filter((m) => !m.isRead)
      .map((m) => m.id)
      .sort();
    assert.deepEqual(unread, [...newsletterIds].sort(), 'the newsletters stay unread, the invoice is read');
    assert.deepEqual(await filteredByCondition(config), { from: NEWSLETTERS.length }, 'the ledger has them filtered by from');
    const bytes = graph.requests.slice(before).reduce((sum, r) => sum + (r.bytes ?? 0), 0);
    assert.ok(bytes < NEWSLETTERS[0]!.length, `the run read ${bytes} bytes, less than one newsletter`);

    const requests = graph.requests.length;
    const second = await runOnce(config);
    const again = second.polls.get('inbox365');
    assert.ok(again?.status === 'done', JSON.stringify(again));
    assert.equal(again.result.emails + again.result.filtered, 0, 'the second poll takes and judges nothing');
    assert.deepEqual(
      graph.requests.slice(requests).filter((r) => r.path.endsWith('/$value')),
      [],
      'and downloads nothing',
    );
  });

  it('downloads what the fields cannot decide (the attachments’ types) and judges it after the split', async () => {
    const { ws, ids, config } = await mailboxWith('With PDF', [INVOICE, NOTHING_ATTACHED, NEWSLETTERS[0]!], {
      filter: { from: ['*@supplier.example'], attachmentTypes: ['application/pdf'] },
    });
    const [invoiceId, nothingAttachedId, newsletterId] = ids as [string, string, string];

    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox365');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.deepEqual([...new Set((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject))], ['Invoice 1001']);
    assert.deepEqual(outcome.result.filteredBy, { from: 1, attachmentTypes: 1 });
    assert.equal(downloadsOf(graph, [invoiceId, nothingAttachedId]).length, 2, 'both invoices were downloaded to see their attachments');
    assert.deepEqual(downloadsOf(graph, [newsletterId]), [], 'the newsletter was not');
  });

  it('leaves out an email with attachments when the filter says hasAttachments: false, without downloading it', async () => {
    const { ws, ids, config } = await mailboxWith('Text only', [INVOICE, NOTHING_ATTACHED], { filter: { hasAttachments: false } });
    const [invoiceId] = ids as [string, string];

    const { polls } = await runOnce(config);
    const outcome = polls.get('inbox365');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.deepEqual([...new Set((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject))], ['Invoice 1004']);
    assert.deepEqual(outcome.result.filteredBy, { hasAttachments: 1 });
    assert.equal(listings(graph).slice(-1)[0]?.query.get('$select'), 'id,hasAttachments');
    assert.deepEqual(downloadsOf(graph, [invoiceId]), [], 'the invoice with its PDF was not downloaded');
  });

  it('without a filter, lists the id alone', async () => {
    const { config } = await mailboxWith('No filter', [INVOICE], {});
    const { polls } = await runOnce(config);
    assert.equal(polls.get('inbox365')?.status, 'done', JSON.stringify(polls.get('inbox365')));
    assert.equal(listings(graph).slice(-1)[0]?.query.get('$select'), 'id');
  });
});
