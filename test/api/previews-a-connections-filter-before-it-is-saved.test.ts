/**
 * The connection dialog's preview: `POST /api/connections/:name/preview` with the settings being
 * edited says what the next poll would take and leave and why, before anything is saved, and
 * changes nothing on the server.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ConnectionInput } from '../../src/config/schema.ts';
import { type Dovecot, startDovecot } from '../support/dovecot.ts';
import { MAILBOX } from '../support/filter-mailbox.ts';
import { imapConnection, type Workspace, workspace } from '../support/postroom.ts';
import { type ApiHarness, MUTATE, startApi } from './api-kit.ts';

let dovecot: Dovecot;
let ws: Workspace;
let api: ApiHarness;
before(async () => {
  dovecot = await startDovecot();
  ws = await workspace();
  api = await startApi(ws);
});
after(async () => {
  await api?.close();
  await dovecot?.stop();
  await ws?.dispose();
});

it('previews an unsaved connection with its filter and changes nothing', async () => {
  const user = await dovecot.addUser('dialog-preview', 'pw-dialog-preview');
  await dovecot.deliverMany(
    user.name,
    MAILBOX.slice(0, 3).map((email) => email.raw),
  );
  const body = imapConnection(dovecot, user, { name: 'draft', filter: { from: ['*@supplier.example'] } } as Partial<ConnectionInput>);
  const response = await api.app.inject({ method: 'POST', url: '/api/connections/draft/preview?limit=10', headers: MUTATE, payload: body as object });
  assert.equal(response.statusCode, 200, response.body);
  const rows = response.json() as Array<{ subject: string; from: string | null; verdict: string; condition: string | null; reason: string; decidedOn: string }>;
  assert.deepEqual(
    rows.map((row) => [row.subject, row.verdict, row.condition]),
    [
      ['Invoice 1001', 'taken', null],
      ['Newsletter July', 'left', 'from'],
      ['Invoice 1002', 'taken', null],
    ],
  );
  assert.match(rows[1]!.reason, /^the server's SEARCH FROM "@supplier\.example" found no match for "\*@supplier\.example"/);
  assert.deepEqual([rows[1]!.decidedOn, rows[1]!.from], ['server', 'news@shop.example'], "left out by the server's search; its sender read for the preview");
  assert.ok(
    (await dovecot.listMessages(user.name)).every((m) => !m.flags.includes('\\Seen')),
    'nothing was marked seen',
  );
  const saved = await api.app.inject({ method: 'GET', url: '/api/connections/draft', headers: MUTATE });
  assert.equal(saved.statusCode, 404, 'and nothing was saved');
});
