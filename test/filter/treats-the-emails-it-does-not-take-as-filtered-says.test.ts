/**
 * `filtered` on the server: leave (unread where it was), markRead, moveTo a folder, delete; on
 * IMAP and on Graph, where left-alone emails stay at the head of the unread listing and the
 * poll reads on past them instead of listing them for ever.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { fakeGraphWithMailbox, MAILBOX as GRAPH_MAILBOX, graphConnection } from '../graph/graph-kit.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import type { FakeGraph } from '../support/fake-graph.ts';
import { deliveredByRoute, INVOICE_RULES, LEFT, MAILBOX, ROUTED, routedConfig, TAKEN } from '../support/filter-mailbox.ts';
import { imapConnection, readDelivered, runOnce, testConfig, type Workspace, workspace } from '../support/postroom.ts';

/** Invoice 1001 (taken), the newsletter and the out-of-office reply (left out). */
const SMALL = MAILBOX.slice(0, 4).filter((email) => email.subject !== 'Invoice 1002');

describe('what happens on the server to an email the filter does not take', () => {
  let dovecot: Dovecot;
  let graph: FakeGraph;
  const workspaces: Workspace[] = [];
  before(async () => {
    dovecot = await startDovecot();
    graph = await fakeGraphWithMailbox({ pageSize: 2 });
  });
  after(async () => {
    await dovecot?.stop();
    await graph?.close();
    await Promise.all(workspaces.map((ws) => ws.dispose()));
  });

  async function imapRun(user: { name: string; password: string }, filtered: ConnectionInput['filtered']) {
    const ws = await workspace();
    workspaces.push(ws);
    const config = testConfig(ws, [imapConnection(dovecot, user, { filter: INVOICE_RULES.filter, filtered } as Partial<ConnectionInput>)]);
    const { polls } = await runOnce(config);
    assert.equal(polls.get('inbox')?.status, 'done', JSON.stringify(polls.get('inbox')));
    assert.deepEqual([...new Set((await readDelivered(ws.outDir)).map((d) => d.envelope.email.subject))], ['Invoice 1001'], 'only the invoice is emitted');
  }

  it('IMAP markRead: the emails not taken are marked seen, and stay in the folder', async () => {
    const user = await dovecot.addUser('filtered-read', 'pw-filtered-read');
    await dovecot.deliverMany(
      user.name,
      SMALL.map((email) => email.raw),
    );
    await imapRun(user, 'markRead');
    const messages = await dovecot.listMessages(user.name);
    assert.equal(messages.length, SMALL.length);
    assert.ok(
      messages.every((m) => m.flags.includes('\\Seen')),
      'every email is seen: the invoice taken, the others by markRead',
    );
  });

  it('IMAP moveTo: the emails not taken are moved to the folder named', async () => {
    const user = await dovecot.addUser('filtered-move', 'pw-filtered-move');
    await dovecot.createFolder(user.name, 'Skipped');
    await dovecot.deliverMany(
      user.name,
      SMALL.map((email) => email.raw),
    );
    await imapRun(user, { moveTo: 'Skipped' });
    assert.equal((await dovecot.listMessages(user.name)).length, 1, 'the invoice stays (seen) in INBOX');
    assert.equal((await dovecot.listMessages(user.name, { folder: 'Skipped' })).length, SMALL.length - 1, 'the others are in Skipped');
  });

  it('IMAP delete: the emails not taken are deleted', async () => {
    const user = await dovecot.addUser('filtered-delete', 'pw-filtered-delete');
    await dovecot.deliverMany(
      user.name,
      SMALL.map((email) => email.raw),
    );
    await imapRun(user, 'delete');
    const messages = await dovecot.listMessages(user.name);
    assert.equal(messages.length, 1, 'only the invoice is left');
    assert.ok(messages[0]!.flags.includes('\\Seen'));
  });

  it('Graph leave: the emails not taken stay unread; the poll reads on past them page by page, and a second run takes nothing', async () => {
    const ws = await workspace();
    workspaces.push(ws);
    const ids = new Map(MAILBOX.map((email) => [email.subject, graph.deliver(GRAPH_MAILBOX, email.raw, 'inbox')]));
    const config = routedConfig(ws, graphConnection(graph, { name: 'invoices', ...INVOICE_RULES } as Partial<ConnectionInput>));
    const { polls } = await runOnce(config);
    const outcome = polls.get('invoices');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.equal(outcome.result.emails, TAKEN.length);
    assert.deepEqual(await deliveredByRoute(ws), ROUTED);
    const unread = graph
      .messages(GRAPH_MAILBOX, 'inbox')
      .filter((m) => !m.isRead)
      .map((m) => m.id)
      .sort();
    assert.deepEqual(unread, LEFT.map((email) => ids.get(email.subject)!).sort(), 'exactly the left-alone emails are still unread');

    const downloads = graph.requests.filter((r) => r.path.endsWith('/$value')).length;
    const second = await runOnce(config);
    const again = second.polls.get('invoices');
    assert.ok(again?.status === 'done');
    assert.equal(again.result.emails + again.result.filtered, 0, 'the second run emits and judges nothing');
    assert.equal(graph.requests.filter((r) => r.path.endsWith('/$value')).length, downloads, 'and downloads nothing');
  });
});
