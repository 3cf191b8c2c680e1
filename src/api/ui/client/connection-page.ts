/**
 * A page per connection, opened from its row on the status board (#/connection/<name>): its
 * settings (read-only), who reads it now, emails per hour over the last day, its last 50 polls
 * (those an operator asked for marked so), the throttled waits among them, and who paused,
 * resumed or polled it now, and when. One timer refreshes all of it.
 */
import { h } from 'preact';
import type { ConnectionActivity, ConnectionControls, ConnectionView, PollHistory } from '../../schemas.ts';
import { ActivityPlot } from './activity-plot.ts';
import { api } from './api.ts';
import { ago, clock, duration, relative, workerWords } from './format.ts';
import { useRefresh } from './use-refresh.ts';

const REFRESH_MS = 5_000;
const POLLS_SHOWN = 50;
const CONTROLS_SHOWN = 50;
const HASH_PREFIX = '#/connection/';

/** The address of a connection's page. */
export function connectionPageHref(name: string): string {
  return `${HASH_PREFIX}${encodeURIComponent(name)}`;
}

/** The connection whose page the address names, or null. */
export function connectionFromHash(hash: string): string | null {
  if (!hash.startsWith(HASH_PREFIX)) return null;
  try {
    return decodeURIComponent(hash.slice(HASH_PREFIX.length)) || null;
  } catch {
    return null;
  }
}

type Poll = PollHistory['polls'][number];

const OUTCOME: Record<Poll['outcome'], { label: string; badge: string }> = {
  ok: { label: 'OK', badge: 'ok' },
  failed: { label: 'Failed', badge: 'failing' },
  throttled: { label: 'Throttled', badge: 'throttled' },
};

/** Said elsewhere on the page (the title, the note above the settings): not settings. */
const NOT_SETTINGS = new Set(['name', 'source', 'readOnly', 'warnings', 'problem']);

/** "pollingInterval" → "Polling interval"; "tls.ca" → "TLS: CA". */
function label(path: string): string {
  const words = (key: string) => {
    const spaced = key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .replace(/\b(tls|ssl|ca|imap|pop3|id)\b/g, (word) => word.toUpperCase());
    return spaced.charAt(0).toUpperCase() + spaced.slice(1);
  };
  return path.split('.').map(words).join(': ');
}

function shown(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.length ? value.map(shown).join(', ') : '(none)';
  const text = String(value);
  if (text.includes('-----BEGIN')) return '(PEM text)';
  return text;
}

/** Every setting as label and value, nested ones flattened; stored secrets as "stored (never shown)". */
function settingRows(view: ConnectionView): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const walk = (value: Record<string, unknown>, prefix: string) => {
    for (const [key, item] of Object.entries(value)) {
      if (!prefix && NOT_SETTINGS.has(key)) continue;
      if (item === undefined || item === null) continue;
      if (key.endsWith('Set') && item === true) {
        rows.push([label(prefix + key.slice(0, -3)), 'stored (never shown)']);
      } else if (typeof item === 'object' && !Array.isArray(item)) {
        walk(item as Record<string, unknown>, `${prefix}${key}.`);
      } else {
        rows.push([label(prefix + key), shown(item)]);
      }
    }
  };
  walk(view as Record<string, unknown>, '');
  return rows;
}

/** "Read by worker vm, process 12934, until 10:42:05", or that no worker reads it now. */
function leaseWords(lease: PollHistory['lease']): string {
  if (!lease) return 'No worker is reading it right now.';
  return `Read by ${workerWords(lease.holder)}, until ${new Date(lease.until).toLocaleTimeString()}.`;
}

function throttleReason(poll: Poll): string {
  return (poll.error ?? '').replace(/^throttled: /, '') || 'no reason given';
}

function PollsTable(props: { polls: Poll[]; now: number }) {
  const { polls, now } = props;
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid-table', 'aria-label': 'Polls' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Duration', 'Emails', 'Pipeline messages', 'Outcome', 'Worker', 'Error'].map((text) => h('th', { key: text, scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        polls.map((poll) =>
          h(
            'tr',
            { key: `${poll.startedAt}-${poll.holder}` },
            h(
              'td',
              { class: 'nowrap', title: clock(poll.startedAt) },
              new Date(poll.startedAt).toLocaleTimeString(),
              h('span', { class: 'sub' }, ago(poll.startedAt, now)),
            ),
            h('td', { class: 'num' }, duration(poll.durationMs)),
            h('td', { class: 'num' }, String(poll.emails)),
            h('td', { class: 'num' }, String(poll.messages)),
            h(
              'td',
              {},
              h('span', { class: `badge ${OUTCOME[poll.outcome].badge}` }, OUTCOME[poll.outcome].label),
              poll.askedBy ? h('span', { class: 'sub asked' }, `Asked by ${poll.askedBy}`) : null,
            ),
            h('td', { class: 'holder', title: poll.holder }, workerWords(poll.holder)),
            h(
              'td',
              {},
              poll.error ? h('div', { class: poll.outcome === 'failed' ? 'reason error-text' : 'reason' }, poll.error) : '–',
              poll.hint ? h('span', { class: 'sub hint' }, poll.hint) : null,
            ),
          ),
        ),
      ),
    ),
    polls.length === 0 ? h('p', { class: 'empty' }, 'Not polled in the last 24 hours.') : null,
  );
}

function ThrottleHistory(props: { polls: Poll[] }) {
  const waits = props.polls.filter((poll) => poll.outcome === 'throttled');
  if (!waits.length) return h('p', { class: 'empty' }, 'The provider asked for no pause in the polls shown.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid-table', 'aria-label': 'Throttle history' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Why', 'Reading went on', 'How long'].map((text) => h('th', { key: text, scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        waits.map((poll) =>
          h(
            'tr',
            { key: poll.startedAt },
            h('td', { class: 'nowrap', title: clock(poll.startedAt) }, clock(poll.startedAt)),
            h('td', {}, h('div', { class: 'reason' }, throttleReason(poll))),
            h('td', { class: 'nowrap' }, poll.throttledUntil ? clock(poll.throttledUntil) : 'not known'),
            h('td', { class: 'num' }, poll.throttledUntil ? relative(Date.parse(poll.throttledUntil) - Date.parse(poll.finishedAt)).replace(/^in /, '') : '–'),
          ),
        ),
      ),
    ),
  );
}

type Control = ConnectionControls['controls'][number];

const CONTROL_WORDS: Record<Control['action'], string> = { pause: 'Paused', resume: 'Resumed', poll: 'Poll now' };

/** "Paused by CLI (root) at 10:02:31", "Poll now by API from 127.0.0.1 at 10:05:12". */
export function controlWords(control: Control): string {
  return `${CONTROL_WORDS[control.action]} by ${control.by} at ${new Date(control.at).toLocaleTimeString()}`;
}

function ControlsTable(props: { controls: Control[]; now: number }) {
  const { controls, now } = props;
  if (!controls.length) return h('p', { class: 'empty' }, 'No one paused, resumed or polled it by hand in the last 24 hours.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'grid-table', 'aria-label': 'Controls' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'What', 'By whom'].map((text) => h('th', { key: text, scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        controls.map((control) =>
          h(
            'tr',
            { key: `${control.at}-${control.action}-${control.by}`, title: controlWords(control) },
            h(
              'td',
              { class: 'nowrap', title: clock(control.at) },
              new Date(control.at).toLocaleTimeString(),
              h('span', { class: 'sub' }, ago(control.at, now)),
            ),
            h(
              'td',
              {},
              CONTROL_WORDS[control.action],
              control.action === 'poll'
                ? h('span', { class: 'sub' }, control.polledAt ? `polled at ${new Date(control.polledAt).toLocaleTimeString()}` : 'not polled yet')
                : null,
            ),
            h('td', {}, control.by),
          ),
        ),
      ),
    ),
  );
}

interface PageData {
  view: ConnectionView;
  history: PollHistory;
  activity: ConnectionActivity;
  controls: ConnectionControls;
}

export function ConnectionPage(props: { name: string }) {
  const { name } = props;
  const path = `/api/connections/${encodeURIComponent(name)}`;
  const { data, error, loadedAt } = useRefresh<PageData>(async () => {
    const [view, history, activity, controls] = await Promise.all([
      api.get<ConnectionView>(path),
      api.get<PollHistory>(`${path}/polls?limit=${POLLS_SHOWN}`),
      api.get<ConnectionActivity>(`${path}/activity`),
      api.get<ConnectionControls>(`${path}/controls?limit=${CONTROLS_SHOWN}`),
    ]);
    return { view, history, activity, controls };
  }, REFRESH_MS);
  const now = loadedAt || Date.now();
  const missing = error !== null && /No connection has that name/.test(error);

  return h(
    'section',
    { 'aria-labelledby': 'connection-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('a', { href: '#/status' }, '← Status'),
      h('h1', { id: 'connection-title' }, name),
      data ? h('span', { class: 'badge' }, data.view.hostType) : null,
      h(
        'span',
        { class: 'muted', 'aria-live': 'polite' },
        error ? `Not updated: ${error}` : loadedAt ? `Updated ${new Date(loadedAt).toLocaleTimeString()}` : 'Loading…',
      ),
    ),
    missing ? h('p', { class: 'error', role: 'alert' }, `There is no connection named "${name}".`) : null,
    data
      ? [
          h(
            'div',
            { key: 'who', class: 'cards two' },
            h('div', { class: 'card stat' }, h('span', {}, 'Who reads it'), h('strong', { class: 'words' }, leaseWords(data.history.lease))),
            h(
              'div',
              { class: `card stat ${data.history.throttle ? 'warn' : ''}` },
              h('span', {}, 'Provider pause'),
              h(
                'strong',
                { class: 'words' },
                data.history.throttle
                  ? `Paused until ${new Date(data.history.throttle.until).toLocaleTimeString()} (${ago(data.history.throttle.until, now)}): ${data.history.throttle.reason}`
                  : 'None: reading as usual.',
              ),
            ),
          ),
          h(ActivityPlot, { key: 'plot', ...data.activity }),
          h('h2', { key: 'polls-title', id: 'polls-title' }, `Last ${POLLS_SHOWN} polls`),
          h(PollsTable, { key: 'polls', polls: data.history.polls, now }),
          h('h2', { key: 'throttle-title' }, 'Throttle history'),
          h(ThrottleHistory, { key: 'throttles', polls: data.history.polls }),
          h('h2', { key: 'controls-title' }, 'Controls'),
          h(ControlsTable, { key: 'controls', controls: data.controls.controls, now }),
          h('h2', { key: 'settings-title', id: 'settings-title' }, 'Settings'),
          h(
            'p',
            { key: 'source', class: 'note' },
            data.view.source === 'config'
              ? 'This connection comes from postroom.yaml: its settings are shown here read-only. Change them in the file.'
              : 'This connection was added in the web UI or the API: edit it under Connections.',
          ),
          data.view.problem ? h('p', { key: 'problem', class: 'error' }, data.view.problem) : null,
          h(
            'dl',
            { key: 'settings', class: 'settings', 'aria-labelledby': 'settings-title' },
            settingRows(data.view).map(([term, value]) => [h('dt', { key: `t-${term}` }, term), h('dd', { key: `d-${term}` }, value)]),
          ),
        ]
      : null,
  );
}
