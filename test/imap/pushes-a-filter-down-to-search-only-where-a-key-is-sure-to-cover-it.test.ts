/**
 * The translation of a filter into IMAP SEARCH keys (src/sources/imap/server-search.ts): each key
 * is weaker than its condition (every text a glob matches contains the key's run, ignoring case),
 * so a UID the server does not find is certainly left out; a condition no key is sure to cover is
 * not pushed, and nothing is pushed unless the connection is IMAP with `filtered: leave`. The
 * queries are compiled by imapflow's own search compiler, so the test sees the command's words.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import compile from 'imapflow/lib/handler/imap-compiler.js';
import { searchCompiler } from 'imapflow/lib/search-compiler.js';
import { filterSchema } from '../../src/config/filter-schema.ts';
import { type ConnectionInput, connectionSchema } from '../../src/config/schema.ts';
import { compilePattern } from '../../src/config/text-pattern.ts';
import { plainRun, searchesOf, serverSearchPlan } from '../../src/sources/imap/server-search.ts';

/** The UID SEARCH command imapflow sends for a query (no capabilities, nothing enabled). */
function wire(query: object): string {
  const connection = { capabilities: new Map(), enabled: new Set() } as never;
  return compile({ tag: 'A1', command: 'UID SEARCH', attributes: searchCompiler(connection, query as never) } as never).toString();
}

const BASE = { name: 'invoices', hostType: 'imap', host: 'imap.example.com', username: 'u', password: 'p', destination: 'out' } as const;

it('gives each glob its longest plain ASCII run, which every text the glob matches contains', () => {
  const cases: Array<[string, string | undefined, string[]]> = [
    ['*@supplier.example', '@supplier.example', ['billing@SUPPLIER.example', 'a@supplier.example']],
    ['billing@*', 'billing@', ['Billing@x.example']],
    ['Invoice *', 'Invoice', ['INVOICE 1001', 'invoice  7']],
    ['Rechnung für * vom ?', 'Rechnung', ['rechnung für Mai vom 3']],
    ['news-?@*.example', '.example', ['news-1@a.example']],
    ['*', undefined, ['anything']],
    ['a*b*c', undefined, ['abc']],
    ['*.de', '.de', ['x.DE']],
    ['*@a?', undefined, ['x@ab']],
    ['/^invoice/i', undefined, ['Invoice']],
    ['Überweisung *', 'berweisung', ['überweisung 1']],
    ['請求書 *', undefined, ['請求書 1']],
  ];
  for (const [glob, run, texts] of cases) {
    assert.equal(plainRun(glob), run, glob);
    for (const text of texts) {
      assert.ok(compilePattern(glob).test(text), `${glob} matches ${text}`);
      if (run) assert.ok(text.toLowerCase().includes(run.toLowerCase()), `${text} contains ${run}`);
    }
  }
});

it('translates from, to, subject and the sizes into keys, in the order the judge names conditions', () => {
  const { searches, notPushed } = searchesOf(
    filterSchema.parse({
      from: ['*@supplier.example', 'billing@*', 'BILLING@*'],
      to: 'invoices@*',
      subject: 'Invoice *',
      maxSize: 200_000,
      minSize: 1000,
    }),
  );
  assert.deepEqual(
    searches.map((search) => [search.condition, search.keys]),
    [
      ['from', 'FROM "@supplier.example" or FROM "billing@"'],
      ['to', 'TO, CC or HEADER Delivered-To "invoices@"'],
      ['subject', 'SUBJECT "Invoice"'],
      ['maxSize', 'SMALLER 200001'],
      ['minSize', 'LARGER 999'],
    ],
    'globs differing only in case are one key',
  );
  assert.deepEqual(notPushed, []);
  const [from, to, subject, maxSize, minSize] = searches.map((search) => wire({ uid: '5:9', ...search.query }));
  assert.equal(from, 'A1 UID SEARCH UID 5:9 OR FROM @supplier.example FROM billing@');
  assert.equal(to, 'A1 UID SEARCH UID 5:9 OR OR TO invoices@ CC invoices@ HEADER DELIVERED-TO invoices@');
  assert.equal(subject, 'A1 UID SEARCH UID 5:9 SUBJECT Invoice');
  assert.equal(maxSize, 'A1 UID SEARCH UID 5:9 SMALLER 200001', 'maxSize holds at size <= n; SMALLER means < n');
  assert.equal(minSize, 'A1 UID SEARCH UID 5:9 LARGER 999', 'minSize holds at size >= n; LARGER means > n');
  assert.match(
    searches[0]!.reason,
    /^the server's SEARCH FROM "@supplier\.example" or FROM "billing@" found no match for "\*@supplier\.example", "billing@\*", "BILLING@\*"/,
  );
});

it('does not push a condition one of whose patterns no key covers, nor what SEARCH cannot test', () => {
  const { searches, notPushed } = searchesOf(
    filterSchema.parse({
      from: ['*@supplier.example', '*'],
      subject: ['Invoice *', '/^(Rechnung|Factura)\\b/i'],
      minSize: 1,
      maxSize: '25MB',
      attachmentTypes: ['application/pdf'],
      autoReplies: 'skip',
      bounces: 'skip',
    }),
  );
  assert.deepEqual(
    searches.map((search) => search.keys),
    ['SMALLER 25000001'],
  );
  assert.deepEqual(
    notPushed.map((entry) => entry.condition),
    ['from', 'subject', 'minSize', 'attachmentTypes', 'autoReplies', 'bounces'],
  );
  assert.match(notPushed[0]!.why, /"\*" has no run of 3 or more plain ASCII characters/, 'one glob that matches anything makes the whole OR unsearchable');
  assert.match(notPushed[1]!.why, /is a \/regex\/, which SEARCH cannot express/);
});

it('pushes down only for IMAP with filtered: leave, unless filterOnServer: false', () => {
  const plan = (extra: Partial<ConnectionInput>) =>
    serverSearchPlan(connectionSchema.parse({ ...BASE, filter: { from: '*@supplier.example' }, ...extra } as ConnectionInput));
  assert.equal(plan({}).searches.length, 1, 'on by default');
  assert.equal(plan({ filterOnServer: true }).searches.length, 1);
  assert.deepEqual(plan({ filterOnServer: false }), { searches: [], notPushed: [], off: 'filterOnServer: false' });
  assert.match(plan({ filtered: 'markRead' }).off ?? '', /filtered: markRead acts on every email left out, so Postroom judges each one itself/);
  assert.match(plan({ filtered: { moveTo: 'Skipped' } }).off ?? '', /filtered: moveTo Skipped/);
  assert.match(plan({ hostType: 'pop3' } as Partial<ConnectionInput>).off ?? '', /only IMAP/);
  assert.equal(serverSearchPlan(connectionSchema.parse(BASE)).off, 'the connection has no filter');
});

it('refuses filterOnServer: true where it cannot be honoured, naming the cause and the fix', () => {
  const issues = (extra: Partial<ConnectionInput>) => {
    const result = connectionSchema.safeParse({ ...BASE, filter: { from: '*@supplier.example' }, filterOnServer: true, ...extra });
    return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };
  assert.match(
    issues({ filtered: 'delete' }).join('\n'),
    /^filterOnServer: needs filtered: leave: an email the server's SEARCH leaves out is never judged by Postroom/,
  );
  assert.match(
    issues({ hostType: 'pop3' } as Partial<ConnectionInput>).join('\n'),
    /filterOnServer: only IMAP pre-selects on the server: POP3 has no search; remove filterOnServer/,
  );
  assert.deepEqual(issues({ filterOnServer: false, filtered: 'delete' }), [], 'turning it off is always allowed');
});
