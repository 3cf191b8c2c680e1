/**
 * Dead letters, grouped by the email they were made from, filtered by connection and destination,
 * a page at a time: why each failed (in full), when it is tried again; the details, the raw email,
 * Replay and Discard (with a confirmation) for one part or the whole email.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConnectionView, DeadLetterView, DiscardResult, ReplayResult } from '../../schemas.ts';
import { ApiError, api } from './api.ts';
import { discardMessage, groupByEmail, PAGE_SIZE, plainReason, replayMessage, showing } from './dead-letter-words.ts';
import { EmailTrailDialog } from './email-trail.ts';
import { ago, bytes, clock } from './format.ts';
import { Modal } from './modal.ts';
import { ReloadDestinations } from './reload-destinations.ts';
import { useRefresh } from './use-refresh.ts';

const REFRESH_MS = 5_000;

const PART_WORDS: Record<string, string> = { body: 'Text', attachment: 'Attachment', original: 'Whole email' };

type Detail = DeadLetterView & { envelope: Record<string, unknown>; rawAvailable: boolean };
interface Page {
  items: DeadLetterView[];
  total: number;
}
/** What a confirmed discard takes: one dead letter, or every one of an email. */
type Discarding = { id: string; what: string } | { email: string; what: string; count: number };

async function downloadRaw(id: string): Promise<void> {
  const response = await api.raw('GET', `/api/dead-letters/${encodeURIComponent(id)}/raw`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `${id}.eml`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function listPath(filter: { connection: string; destination: string }, offset: number): string {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
  if (filter.connection) query.set('connection', filter.connection);
  if (filter.destination) query.set('destination', filter.destination);
  return `/api/dead-letters?${query}`;
}

async function loadPage(path: string): Promise<Page> {
  const response = await api.raw('GET', path);
  const items = (await response.json()) as DeadLetterView[];
  return { items, total: Number(response.headers.get('x-total-count') ?? items.length) };
}

const subjectOf = (d: DeadLetterView): string => d.subject ?? '(no subject)';

export function DeadLettersScreen() {
  const [filter, setFilter] = useState({ connection: '', destination: '' });
  const [offset, setOffset] = useState(0);
  const [names, setNames] = useState<{ connections: string[]; destinations: string[] }>({ connections: [], destinations: [] });
  const path = listPath(filter, offset);
  const { data, error, reload, loadedAt } = useRefresh(() => loadPage(path), REFRESH_MS);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [discarding, setDiscarding] = useState<Discarding | null>(null);
  const [trail, setTrail] = useState<{ id: string; title: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const now = loadedAt || Date.now();

  useEffect(() => {
    void reload();
  }, [path]);
  useEffect(() => {
    void Promise.all([
      api.get<ConnectionView[]>('/api/connections').catch(() => []),
      api.get<Array<{ name: string }>>('/api/destinations').catch(() => []),
    ]).then(([connections, destinations]) =>
      setNames({ connections: connections.map((c) => c.name).sort(), destinations: destinations.map((d) => d.name).sort() }),
    );
  }, []);
  // After discards the page may be past the end: back to the last page that has something.
  useEffect(() => {
    if (data && data.items.length === 0 && offset > 0 && data.total > 0) setOffset(Math.floor((data.total - 1) / PAGE_SIZE) * PAGE_SIZE);
  }, [data, offset]);

  const act = async (run: () => Promise<string>) => {
    try {
      setMessage(await run());
      await reload();
    } catch (caught) {
      setMessage(caught instanceof ApiError ? caught.message : String(caught));
    }
  };
  const replay = (id: string) => act(async () => replayMessage(await api.json<ReplayResult>('POST', `/api/dead-letters/${encodeURIComponent(id)}/replay`)));
  const replayEmail = (email: string) => act(async () => replayMessage(await api.json<ReplayResult>('POST', '/api/dead-letters/replay', { email })));
  const replayAll = () => act(async () => replayMessage(await api.json<ReplayResult>('POST', '/api/dead-letters/replay-all')));
  const discard = (what: Discarding) =>
    act(async () =>
      discardMessage(
        'id' in what
          ? await api.json<DiscardResult>('POST', `/api/dead-letters/${encodeURIComponent(what.id)}/discard`)
          : await api.json<DiscardResult>('POST', '/api/dead-letters/discard', { email: what.email }),
      ),
    );
  const choose = (key: 'connection' | 'destination', value: string) => {
    setFilter({ ...filter, [key]: value });
    setOffset(0);
  };
  // A name no longer configured still has its dead letters: keep it choosable.
  const options = (known: string[], key: 'connection' | 'destination') =>
    [...new Set([...known, ...(data?.items ?? []).map((d) => d[key]), filter[key]].filter(Boolean))].sort();

  const items = data?.items ?? [];
  const total = data?.total ?? 0;
  const filtered = Boolean(filter.connection || filter.destination);

  return h(
    'section',
    { 'aria-labelledby': 'dead-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { id: 'dead-title' }, 'Dead letters'),
      h(
        'span',
        { class: 'muted' },
        'Parts of emails Postroom could not deliver. It tries each again later by itself; Replay tries now, Discard gives up on it for good.',
      ),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'primary', disabled: !total, onClick: () => void replayAll() }, 'Replay all'),
    ),
    h(
      'div',
      { class: 'filter-bar' },
      h(
        'label',
        {},
        'Connection ',
        h(
          'select',
          { value: filter.connection, onChange: (event: Event) => choose('connection', (event.target as HTMLSelectElement).value) },
          h('option', { value: '' }, 'All connections'),
          options(names.connections, 'connection').map((name) => h('option', { key: name, value: name }, name)),
        ),
      ),
      h(
        'label',
        {},
        'Destination ',
        h(
          'select',
          { value: filter.destination, onChange: (event: Event) => choose('destination', (event.target as HTMLSelectElement).value) },
          h('option', { value: '' }, 'All destinations'),
          options(names.destinations, 'destination').map((name) => h('option', { key: name, value: name }, name)),
        ),
      ),
      h('span', { class: 'spacer' }),
      h(
        'nav',
        { class: 'pager', 'aria-label': 'Pages of dead letters' },
        h('span', { 'aria-live': 'polite' }, data ? showing(offset, items.length, total) : 'Loading…'),
        h('button', { type: 'button', disabled: offset === 0, onClick: () => setOffset(Math.max(0, offset - PAGE_SIZE)) }, 'Previous'),
        h('button', { type: 'button', disabled: offset + items.length >= total, onClick: () => setOffset(offset + PAGE_SIZE) }, 'Next'),
      ),
    ),
    h(ReloadDestinations, {}),
    message ? h('p', { class: 'flash', role: 'status' }, message) : null,
    error ? h('p', { class: 'error', role: 'alert' }, error) : null,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid-table dead-letters', 'aria-label': 'Dead letters' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Part', 'Since', 'Tries', 'Next try', 'Why it failed', 'Actions'].map((label) => h('th', { key: label, scope: 'col' }, label)),
          ),
        ),
        groupByEmail(items).map((group) => {
          const [first] = group.rows as [DeadLetterView, ...DeadLetterView[]];
          const subject = subjectOf(first);
          const destinations = [...new Set(group.rows.map((d) => d.destination))].join(', ');
          return h(
            'tbody',
            { key: group.email, class: 'email-group', 'aria-label': `Email ${subject}` },
            h(
              'tr',
              { class: 'email-head' },
              h(
                'th',
                { scope: 'rowgroup', colSpan: 5 },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link row-link',
                    'aria-label': `Open the trail of ${subject}`,
                    onClick: () => setTrail({ id: group.email, title: subject }),
                  },
                  subject,
                ),
                h('span', { class: 'sub' }, [first.from ?? '(no sender)', `${first.connection} → ${destinations}`].join(' · ')),
              ),
              h(
                'td',
                {},
                h(
                  'div',
                  { class: 'row-actions' },
                  h(
                    'button',
                    { type: 'button', class: 'primary', 'aria-label': `Replay every part of ${subject}`, onClick: () => void replayEmail(group.email) },
                    'Replay email',
                  ),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      'aria-label': `Discard every part of ${subject}`,
                      onClick: () => setDiscarding({ email: group.email, what: subject, count: group.rows.length }),
                    },
                    'Discard email',
                  ),
                ),
              ),
            ),
            group.rows.map((d) =>
              h(
                'tr',
                { key: d.id, class: 'part' },
                h(
                  'th',
                  { scope: 'row', class: 'file' },
                  `${PART_WORDS[d.kind] ?? d.kind}: ${d.filename}`,
                  h('span', { class: 'sub' }, `${d.contentType}, ${bytes(d.size)}`),
                ),
                h('td', { class: 'nowrap', title: clock(d.createdAt) }, ago(d.createdAt, now)),
                h('td', { class: 'num' }, String(d.attempts)),
                h(
                  'td',
                  { class: 'nowrap', title: clock(d.nextAttemptAt) },
                  d.nextAttemptAt ? ago(d.nextAttemptAt, now) : h('span', { class: 'muted' }, 'not by itself: replay it'),
                ),
                // The whole reason, wrapped: the address and the cause are what an operator needs.
                h('td', {}, h('div', { class: 'reason error-text' }, plainReason(d.lastError))),
                h(
                  'td',
                  {},
                  h(
                    'div',
                    { class: 'row-actions' },
                    h(
                      'button',
                      {
                        type: 'button',
                        'aria-label': `Details of ${d.id}`,
                        onClick: () =>
                          void api.get<Detail>(`/api/dead-letters/${encodeURIComponent(d.id)}`).then(setDetail, (e: unknown) => setMessage(String(e))),
                      },
                      'Details',
                    ),
                    h(
                      'button',
                      {
                        type: 'button',
                        'aria-label': `Download raw email of ${d.id}`,
                        onClick: () => void downloadRaw(d.id).catch((e: unknown) => setMessage(e instanceof Error ? e.message : String(e))),
                      },
                      'Raw email',
                    ),
                    h('button', { type: 'button', class: 'primary', 'aria-label': `Replay ${d.id}`, onClick: () => void replay(d.id) }, 'Replay'),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        'aria-label': `Discard ${d.id}`,
                        onClick: () => setDiscarding({ id: d.id, what: `${d.filename} of ${subject}` }),
                      },
                      'Discard',
                    ),
                  ),
                ),
              ),
            ),
          );
        }),
      ),
      data && items.length === 0 && offset === 0
        ? h('p', { class: 'empty' }, filtered ? 'No dead letters for this connection and destination.' : 'No dead letters: everything was delivered.')
        : null,
    ),
    discarding
      ? h(
          Modal,
          { title: 'Discard for good?', onClose: () => setDiscarding(null) },
          h(
            'p',
            {},
            'id' in discarding
              ? `Discard ${discarding.what}? Postroom will not try to deliver it again and deletes its content.`
              : `Discard every part of “${discarding.what}” (${discarding.count} here)? Postroom will not try to deliver them again and deletes their content.`,
          ),
          h('p', { class: 'muted' }, 'Nothing disappears silently: the email’s trail keeps a note that you discarded it.'),
          h(
            'div',
            { class: 'actions' },
            h('span', { class: 'spacer' }),
            h('button', { type: 'button', onClick: () => setDiscarding(null) }, 'Cancel'),
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onClick: () => {
                  const what = discarding;
                  setDiscarding(null);
                  void discard(what);
                },
              },
              'Discard',
            ),
          ),
        )
      : null,
    detail
      ? h(
          Modal,
          { title: `Details of ${detail.id}`, onClose: () => setDetail(null), wide: true },
          h('p', { class: 'muted' }, `Tried ${detail.attempts} time(s). Why it failed, as recorded: ${detail.lastError ?? '–'}`),
          h('pre', { class: 'envelope', tabIndex: 0 }, JSON.stringify(detail.envelope, null, 2)),
          h(
            'div',
            { class: 'actions' },
            detail.rawAvailable
              ? h('button', { type: 'button', onClick: () => void downloadRaw(detail.id) }, 'Download raw email')
              : h('span', { class: 'muted' }, 'The raw email is no longer kept.'),
            h('span', { class: 'spacer' }),
            h('button', { type: 'button', onClick: () => setDetail(null) }, 'Close'),
            h('button', { type: 'button', class: 'primary', onClick: () => void replay(detail.id).then(() => setDetail(null)) }, 'Replay'),
          ),
        )
      : null,
    trail ? h(EmailTrailDialog, { id: trail.id, title: trail.title, onClose: () => setTrail(null), onChanged: () => void reload() }) : null,
  );
}
