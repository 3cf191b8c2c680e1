/**
 * The Emails page's search form model (src/api/ui/client/email-search.ts): only the filled-in
 * fields reach GET /api/emails, a "to" date includes its whole day, dates the wrong way round are
 * caught before the request, and the status board's link names the connection it opens.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionFromHash, emailsHash, emptySearchForm, isBlankSearch, searchPath, searchProblem } from '../../src/api/ui/client/email-search.ts';

const query = (path: string) => Object.fromEntries(new URL(path, 'http://ui.test').searchParams);

test('an empty form asks for the latest emails, and counts as no search', () => {
  assert.equal(searchPath(emptySearchForm()), '/api/emails');
  assert.equal(isBlankSearch(emptySearchForm()), true);
  assert.equal(isBlankSearch({ ...emptySearchForm(), subject: ' ' }), true, 'blanks narrow nothing');
  assert.equal(isBlankSearch(emptySearchForm('shop')), false, 'a connection narrows it down');
});

test('only the filled-in fields are sent, trimmed, under the API’s names', () => {
  const path = searchPath({
    ...emptySearchForm(),
    text: '  invoice  march ',
    messageId: '<a1@supplier.example>',
    from: 'supplier.example',
    subject: '',
    connection: 'shop & co',
    state: 'dead',
  });
  assert.deepEqual(query(path), { q: 'invoice  march', messageId: '<a1@supplier.example>', from: 'supplier.example', connection: 'shop & co', state: 'dead' });
});

test('"from" is the start of its day and "to" the start of the next, in the browser’s time zone', () => {
  const { since, until } = query(searchPath({ ...emptySearchForm(), since: '2026-03-02', until: '2026-03-02' }));
  assert.equal(since, new Date(2026, 2, 2).toISOString());
  assert.equal(until, new Date(2026, 2, 3).toISOString(), 'an email picked up late on the 2nd is still found');
  assert.deepEqual(query(searchPath({ ...emptySearchForm(), until: '2026-12-31' })), { until: new Date(2027, 0, 1).toISOString() }, 'across a year');
  assert.deepEqual(query(searchPath({ ...emptySearchForm(), since: 'not a date' })), {}, 'a half-typed date is no bound');
});

test('dates the wrong way round are caught before the request; one day, or one bound, is fine', () => {
  assert.match(searchProblem({ ...emptySearchForm(), since: '2026-03-05', until: '2026-03-04' }) ?? '', /"to" date is before the "from" date/);
  assert.equal(searchProblem({ ...emptySearchForm(), since: '2026-03-05', until: '2026-03-05' }), null);
  assert.equal(searchProblem({ ...emptySearchForm(), until: '2026-03-04' }), null);
});

test('the Emails page’s address names the connection, whatever its name holds', () => {
  for (const name of ['shop', 'shop & co', 'eu/invoices?#1', 'Ünïcode']) assert.equal(connectionFromHash(emailsHash(name)), name);
  assert.equal(emailsHash(), '#/emails');
  assert.equal(connectionFromHash('#/emails'), '');
  assert.equal(connectionFromHash('#/emails?state=dead'), '');
});

test('Load more asks for the same search after the previous page’s cursor', () => {
  const form = { ...emptySearchForm('shop'), text: 'invoice' };
  assert.deepEqual(query(searchPath(form, 'WzE3OTYzMDQ4NjQsInNob3AiLCJpbWFwOklOQk9YOjE6NDIiXQ')), {
    q: 'invoice',
    connection: 'shop',
    after: 'WzE3OTYzMDQ4NjQsInNob3AiLCJpbWFwOklOQk9YOjE6NDIiXQ',
  });
  assert.equal(searchPath(form), searchPath(form, undefined), 'the first page has no cursor');
});
