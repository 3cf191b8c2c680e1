/** `/api/status` says, per connection, how many emails its filter left out and which condition decided. */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { MAILBOX } from '../support/filter-mailbox.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { waitForValue } from '../support/wait-for.ts';
import { type ApiHarness, AUTH, startApi } from './api-kit.ts';

/** Long enough for a first poll on a busy 2-core machine. */
const WAIT_MS = 30_000;

let dovecot: Dovecot;
let ws: Workspace;
let api: ApiHarness;
before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  const user = await dovecot.addUser('status-filtered', 'pw-status-filtered');
  await dovecot.deliverMany(
    user.name,
    MAILBOX.slice(0, 4).map((email) => email.raw),
  );
  api = await startApi(ws, {
    worker: true,
    connections: [
      imapConnection(dovecot, user, { name: 'invoices', filter: { from: ['*@supplier.example'], autoReplies: 'skip' } } as Partial<ConnectionInput>),
    ],
  });
});
after(async () => {
  await api?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

it('counts the emails filtered per connection and condition', async () => {
  const filtered = await waitForValue(
    'the first poll to record what it filtered',
    async () => {
      const response = await api.app.inject({ method: 'GET', url: '/api/status', headers: AUTH });
      const invoices = (response.json() as { connections: Array<{ name: string; filtered: Record<string, number> }> }).connections.find(
        (c) => c.name === 'invoices',
      );
      return invoices && Object.keys(invoices.filtered).length === 2 ? invoices.filtered : undefined;
    },
    WAIT_MS,
  );
  assert.deepEqual(filtered, { from: 1, autoReplies: 1 }, 'the newsletter by its sender, the out-of-office reply by its headers');
});
