/**
 * The connection dialog's Filter section model (src/api/ui/client/filter-form.ts) against the
 * config's own schema: a filter loaded from the API and saved unchanged is the same filter, an
 * empty section sends no `filter`, and the API's issue paths land on the field that shows them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterBodyFromForm, filterFieldOfIssue, filterFormFromView, formatByteSize } from '../../src/api/ui/client/filter-form.ts';
import { issuesOf } from '../../src/api/validation.ts';
import { type ConnectionInput, connectionSchema } from '../../src/config/schema.ts';
import { INVOICE_RULES } from '../support/filter-mailbox.ts';

const BASE = { name: 'invoices', hostType: 'imap', host: 'imap.example.com', username: 'u', password: 'p', destination: 'out' } as const;

/** What the API shows of a connection: the parsed config (lists for patterns, bytes for sizes, defaults filled in). */
function parsed(extra: Partial<ConnectionInput>) {
  return connectionSchema.parse({ ...BASE, ...extra } as ConnectionInput);
}

test('a filter loaded into the fields and sent back unchanged is the same filter', () => {
  for (const extra of [
    { filter: INVOICE_RULES.filter, filtered: { moveTo: 'Skipped' } },
    { filter: { to: 'invoices@*', hasAttachments: false, minSize: '1KiB', maxSize: 1_500_001, bounces: 'skip' }, filtered: 'markRead' },
    { filter: { hasAttachments: true }, filtered: 'delete' },
  ] as Array<Partial<ConnectionInput>>) {
    const shown = parsed(extra);
    const form = filterFormFromView(shown.filter, shown.filtered);
    const again = parsed(filterBodyFromForm(form) as Partial<ConnectionInput>);
    assert.deepEqual([again.filter, again.filtered], [shown.filter, shown.filtered], JSON.stringify(extra));
  }
});

test('the fields show patterns one per line and sizes in the unit they were written in', () => {
  const shown = parsed({ filter: INVOICE_RULES.filter } as Partial<ConnectionInput>);
  const form = filterFormFromView(shown.filter, shown.filtered);
  assert.equal(form.filterSubject, 'Invoice *\n/^(Rechnung|Factura)\\b/i');
  assert.equal(form.filterMaxSize, '200KB');
  assert.deepEqual([formatByteSize(25_000_000), formatByteSize(20 * 1024 ** 2), formatByteSize(1500), formatByteSize(0)], ['25MB', '20MiB', '1500', '0']);
});

test('an empty filter section sends no filter, and leaving emails where they are sends nothing either', () => {
  const shown = parsed({});
  assert.deepEqual(filterBodyFromForm(filterFormFromView(shown.filter, shown.filtered)), {});
  const blank = filterFormFromView(undefined, undefined);
  assert.deepEqual(filterBodyFromForm({ ...blank, filterFrom: ' \n  \n', filterMaxSize: '  ' }), {}, 'blank lines are no patterns');
});

test("the API's issues on the filter name the field that shows them", () => {
  const form = filterFormFromView(undefined, undefined);
  const body = filterBodyFromForm({ ...form, filterSubject: 'Invoice *\n/[/', filterMaxSize: 'huge', filtered: 'moveTo', filteredMoveTo: '' });
  const result = connectionSchema.safeParse({ ...BASE, ...body });
  assert.equal(result.success, false);
  const fields = issuesOf(result.error!).map((issue) => [filterFieldOfIssue(issue.path), issue.message]);
  assert.deepEqual(fields.map(([field]) => field).sort(), ['filterMaxSize', 'filterSubject', 'filteredMoveTo']);
  assert.match(String(fields.find(([field]) => field === 'filterSubject')?.[1]), /\/\[\/ is not a regular expression/);
  assert.equal(filterFieldOfIssue('host'), null, 'other fields are not the filter section’s');
});

test('pre-selecting on the server is on unless the connection says filterOnServer: false, and a save keeps it so', () => {
  for (const filterOnServer of [undefined, true, false]) {
    const shown = parsed({ filter: INVOICE_RULES.filter, ...(filterOnServer === undefined ? {} : { filterOnServer }) } as Partial<ConnectionInput>);
    const form = filterFormFromView(shown.filter, shown.filtered, shown.filterOnServer);
    assert.equal(form.filterOnServer, filterOnServer === false ? 'off' : 'on');
    const again = parsed(filterBodyFromForm(form) as Partial<ConnectionInput>);
    assert.equal(again.filterOnServer !== false, filterOnServer !== false, `filterOnServer: ${filterOnServer} comes back with the same effect`);
  }
  const refused = connectionSchema.safeParse({ ...BASE, filter: { from: '*@x.example' }, filtered: 'delete', filterOnServer: true });
  assert.equal(refused.success, false);
  assert.deepEqual(
    issuesOf(refused.error!).map((issue) => filterFieldOfIssue(issue.path)),
    ['filterOnServer'],
    'its issue lands on its field',
  );
});
