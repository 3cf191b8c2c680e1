/**
 * An invoices mailbox that also receives newsletters, out-of-office replies, bounces and
 * invoices too large or without their file: only the invoices are emitted, each part at its
 * routed destination; the rest stay unseen on the server, are recorded as filtered with the
 * condition that decided, and a second run emits nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostroomMetrics } from '../../src/api/metrics.ts';
import type { Config, ConnectionInput } from '../../src/config/schema.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { deliveredByRoute, INVOICE_RULES, LEFT, MAILBOX, ROUTED, routedConfig, TAKEN } from '../support/filter-mailbox.ts';
import { imapConnection, openWorkspaceStore, pop3Connection, runOnce, type Workspace, workspace } from '../support/postroom.ts';

async function filteredRows(config: Config): Promise<{ conditions: Map<string, string>; metrics: string }> {
  const opened = await openWorkspaceStore(config);
  try {
    const counts = await opened.store.filteredCounts();
    const metrics = await new PostroomMetrics({ processMetrics: false }).render(opened.store, config.connections, Date.now());
    return { conditions: new Map(counts.map((row) => [row.condition, `${row.connection}:${row.emails}`])), metrics };
  } finally {
    await opened.store.close();
  }
}

describe('a connection with a filter, attachment selection and routes', () => {
  let dovecot: Dovecot;
  const workspaces: Workspace[] = [];
  before(async () => {
    dovecot = await startDovecot();
  });
  after(async () => {
    await dovecot?.stop();
    await Promise.all(workspaces.map((ws) => ws.dispose()));
  });

  it('IMAP: emits only the invoices, each part at its route; leaves the rest unseen and never judges them again', async () => {
    const user = await dovecot.addUser('invoices-imap', 'pw-invoices-imap');
    await dovecot.deliverMany(
      user.name,
      MAILBOX.map((email) => email.raw),
    );
    const ws = await workspace();
    workspaces.push(ws);
    const config = routedConfig(ws, imapConnection(dovecot, user, { name: 'invoices', ...INVOICE_RULES } as Partial<ConnectionInput>));

    const { polls } = await runOnce(config);
    const outcome = polls.get('invoices');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.equal(outcome.result.emails, TAKEN.length);
    assert.equal(outcome.result.filtered, LEFT.length);
    assert.deepEqual(await deliveredByRoute(ws), ROUTED, 'each part at its routed destination; the PNG not selected; nothing of the others');

    const messages = await dovecot.listMessages(user.name);
    const seen = messages.filter((m) => m.flags.includes('\\Seen')).length;
    assert.equal(seen, TAKEN.length, 'only the taken emails are marked seen');
    assert.equal(messages.length - seen, LEFT.length, 'the left-alone emails are still unseen in the folder');

    const { conditions: rows, metrics } = await filteredRows(config);
    assert.match(metrics, /postroom_emails_filtered\{connection="invoices",condition="bounces"\} 1/, '/metrics counts them per connection and condition');
    assert.deepEqual(
      [...rows.keys()].sort(),
      [...new Set(LEFT.map((email) => email.verdict))].sort(),
      'each left-alone email is in the ledger with the condition that decided',
    );

    const second = await runOnce(config);
    const again = second.polls.get('invoices');
    assert.ok(again?.status === 'done');
    assert.equal(again.result.emails + again.result.filtered, 0, 'the second run emits and judges nothing');
    assert.deepEqual(await deliveredByRoute(ws), ROUTED);
  });

  it('POP3: leave keeps the left-alone emails on the server, and the ledger keeps them from being judged again', async () => {
    const user = await dovecot.addUser('invoices-pop3', 'pw-invoices-pop3');
    await dovecot.deliverMany(
      user.name,
      MAILBOX.map((email) => email.raw),
    );
    const ws = await workspace();
    workspaces.push(ws);
    const config = routedConfig(ws, pop3Connection(dovecot, user, { name: 'invoices', ...INVOICE_RULES } as Partial<ConnectionInput>));

    const { polls } = await runOnce(config);
    const outcome = polls.get('invoices');
    assert.ok(outcome?.status === 'done', JSON.stringify(outcome));
    assert.deepEqual(await deliveredByRoute(ws), ROUTED);
    const remaining = await dovecot.listMessages(user.name);
    assert.equal(remaining.length, LEFT.length, 'the taken emails are deleted, the left-alone ones are still on the POP3 server');

    const second = await runOnce(config);
    const again = second.polls.get('invoices');
    assert.ok(again?.status === 'done');
    assert.equal(again.result.emails + again.result.filtered, 0, 'the second run emits and judges nothing');
    assert.equal(again.result.listed, LEFT.length, 'the left-alone emails are still listed');
    assert.equal((await dovecot.listMessages(user.name)).length, LEFT.length);
  });
});
