/** Emails: find any email Postroom picked up (words, Message-ID, sender, subject, dates, connection, state) and open its trail. */
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ConnectionView, EmailView } from '../../schemas.ts';

interface EmailPage {
  emails: EmailView[];
  more: boolean;
  next: string | null;
}

import { ApiError, api } from './api.ts';
import { type EmailSearchForm, emptySearchForm, isBlankSearch, searchPath, searchProblem } from './email-search.ts';
import { EmailSearchFields } from './email-search-form.ts';
import { EmailTrailDialog } from './email-trail.ts';
import { ago, clock } from './format.ts';
import { EMAIL_STATE_BADGE, EMAIL_STATE_LABEL } from './trail-labels.ts';

const messageOf = (caught: unknown): string => (caught instanceof ApiError || caught instanceof Error ? caught.message : String(caught));

/** Says what to try when a search finds nothing, or that nothing was picked up yet. */
function Empty(props: { blank: boolean }) {
  if (props.blank) return h('p', { class: 'empty' }, 'No emails picked up yet. Once a connection has polled, its emails are listed here.');
  return h(
    'div',
    { class: 'empty' },
    h('p', {}, 'No email matches this search. Try:'),
    h(
      'ul',
      {},
      h('li', {}, 'fewer or shorter words (every word must appear);'),
      h('li', {}, 'part of the sender’s address, e.g. “supplier.example”;'),
      h('li', {}, 'a wider date range, “All connections” or “Any state”;'),
      h('li', {}, 'Clear, to see the latest emails.'),
    ),
  );
}

function Row(props: { email: EmailView; now: number; onOpen: (email: EmailView) => void }) {
  const { email, now } = props;
  const subject = email.subject ?? '(no subject)';
  return h(
    'tr',
    { key: email.id },
    h('td', { class: 'nowrap', title: clock(email.pickedUpAt) }, clock(email.pickedUpAt), h('span', { class: 'sub' }, ago(email.pickedUpAt, now))),
    h('td', {}, email.connection),
    h('td', {}, email.from ?? '(no sender)'),
    h(
      'th',
      { scope: 'row' },
      h('button', { type: 'button', class: 'link row-link', 'aria-label': `Open the trail of ${subject}`, onClick: () => props.onOpen(email) }, subject),
      email.messageId ? h('span', { class: 'sub' }, email.messageId) : null,
    ),
    h(
      'td',
      {},
      h('span', { class: `badge ${EMAIL_STATE_BADGE[email.state]}` }, EMAIL_STATE_LABEL[email.state]),
      email.filtered ? h('span', { class: 'sub' }, `${email.filtered.condition}: ${email.filtered.reason}`) : null,
    ),
    h('td', { class: 'num' }, String(email.messages)),
  );
}

export function EmailsScreen(props: { connection?: string }) {
  const [form, setForm] = useState<EmailSearchForm>(emptySearchForm(props.connection));
  const [connections, setConnections] = useState<string[]>([]);
  /** The emails found so far (a page, and any loaded after it), and the cursor of the next page. */
  const [results, setResults] = useState<{ emails: EmailView[]; blank: boolean; at: number; form: EmailSearchForm; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState<EmailView | null>(null);

  const search = useCallback(async (what: EmailSearchForm) => {
    const problem = searchProblem(what);
    if (problem) {
      setError(problem);
      return;
    }
    setBusy(true);
    try {
      const page = await api.get<EmailPage>(searchPath(what));
      setResults({ emails: page.emails, blank: isBlankSearch(what), at: Date.now(), form: what, next: page.more ? page.next : null });
      setError(null);
    } catch (caught) {
      setError(`The search failed: ${messageOf(caught)}`);
    } finally {
      setBusy(false);
    }
  }, []);

  /** The next page of the search shown (the form as it was searched, not as edited since), added below. */
  const loadMore = async () => {
    if (!results?.next) return;
    setBusy(true);
    try {
      const page = await api.get<EmailPage>(searchPath(results.form, results.next));
      setResults({ ...results, emails: [...results.emails, ...page.emails], next: page.more ? page.next : null });
      setError(null);
    } catch (caught) {
      setError(`Loading more failed: ${messageOf(caught)}`);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    void search(form);
    api
      .get<ConnectionView[]>('/api/connections')
      .then((list) => setConnections(list.map((c) => c.name).sort()))
      .catch(() => setConnections([]));
  }, []);

  const clear = () => {
    const empty = emptySearchForm();
    setForm(empty);
    void search(empty);
  };

  return h(
    'section',
    { 'aria-labelledby': 'emails-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { id: 'emails-title' }, 'Emails'),
      h('span', { class: 'muted' }, 'Every email Postroom picked up: find one, and see where it went.'),
    ),
    h(EmailSearchFields, { form, connections, busy, onChange: setForm, onSearch: () => void search(form), onClear: clear }),
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h(
      'p',
      { class: 'muted', 'aria-live': 'polite' },
      results ? `${results.emails.length} email(s)${results.next ? ', the latest first; more match: Load more shows older ones' : ''}.` : 'Searching…',
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid-table', 'aria-label': 'Emails' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Picked up', 'Connection', 'From', 'Subject', 'State', 'Pipeline messages'].map((label) => h('th', { key: label, scope: 'col' }, label)),
          ),
        ),
        h(
          'tbody',
          {},
          (results?.emails ?? []).map((email) => h(Row, { key: email.id, email, now: results?.at ?? Date.now(), onOpen: setOpen })),
        ),
      ),
      results && results.emails.length === 0 ? h(Empty, { blank: results.blank }) : null,
    ),
    results?.next
      ? h('p', { class: 'actions' }, h('button', { type: 'button', disabled: busy, onClick: () => void loadMore() }, busy ? 'Loading…' : 'Load more'))
      : null,
    open ? h(EmailTrailDialog, { id: open.id, title: open.subject ?? '(no subject)', onClose: () => setOpen(null), onChanged: () => void search(form) }) : null,
  );
}
