/**
 * The status board: what every connection is doing, refreshed every few seconds by one timer.
 * One table, rows keyed by name, relative times computed once per refresh: fast at 500 rows.
 */
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { FAILING_STATES } from '../../connection-states.ts';
import type { ConnectionStatus, StatusReport } from '../../schemas.ts';
import { ActivityPlot } from './activity-plot.ts';
import { ApiError, api } from './api.ts';
import { connectionPageHref } from './connection-page.ts';
import { emailsHash } from './email-search.ts';
import { ago, clock, duration, leftOutSummary, workerWords } from './format.ts';
import { useRefresh } from './use-refresh.ts';

/** Often enough to feel live, rare enough for 500 connections and several open tabs. */
const REFRESH_MS = 3_000;

const DELIVERY_LABEL: Record<ConnectionStatus['delivery']['state'], string> = {
  ok: 'Delivering',
  retrying: 'Retrying',
  failing: 'Failing',
};

const STATE_LABEL: Record<ConnectionStatus['state'], string> = {
  ok: 'OK',
  polling: 'Polling now',
  paused: 'Paused',
  failing: 'Failing',
  needs_reauth: 'Needs re-authorisation',
  throttled: 'Throttled',
  disabled: 'Disabled',
  invalid: 'Invalid',
  new: 'Not polled yet',
};

/** The operator's controls on a row: poll now, pause or resume (the API says what happened). */
function Controls(props: { c: ConnectionStatus; onDone: (message: string) => void }) {
  const { c, onDone } = props;
  const path = (verb: string) => `/api/connections/${encodeURIComponent(c.name)}/${verb}`;
  const run = async (work: () => Promise<string>) => {
    try {
      onDone(await work());
    } catch (caught) {
      onDone(caught instanceof ApiError ? caught.message : String(caught));
    }
  };
  const pollNow = () =>
    run(async () => {
      const result = await api.json<{ outcome: string; emails: number; messages: number; error: string | null; holder: string | null }>('POST', path('poll'));
      if (result.outcome === 'leased-elsewhere')
        return `${c.name}: ${result.holder ? workerWords(result.holder) : 'another worker'} reads it and polls it now.`;
      if (result.outcome === 'queued') return `${c.name}: due now; a worker polls it within a second.`;
      return `${c.name}: polled${result.error ? ` (${result.error})` : ''}: ${result.emails} email(s), ${result.messages} pipeline message(s).`;
    });
  const pause = (paused: boolean) =>
    run(async () => {
      await api.json('POST', path(paused ? 'pause' : 'resume'));
      return paused ? `${c.name}: paused on every worker.` : `${c.name}: resumed; polled now.`;
    });
  const details = h('a', { key: 'details', class: 'button-link', href: connectionPageHref(c.name), 'aria-label': `Details of ${c.name}` }, 'Details');
  if (!c.enabled || c.state === 'invalid') return h('td', { class: 'nowrap' }, details);
  return h(
    'td',
    { class: 'nowrap' },
    details,
    c.paused
      ? h('button', { type: 'button', 'aria-label': `Resume ${c.name}`, onClick: () => void pause(false) }, 'Resume')
      : [
          h('button', { type: 'button', key: 'poll', 'aria-label': `Poll ${c.name} now`, onClick: () => void pollNow() }, 'Poll now'),
          h('button', { type: 'button', key: 'pause', 'aria-label': `Pause ${c.name}`, onClick: () => void pause(true) }, 'Pause'),
        ],
  );
}

function Row(props: { c: ConnectionStatus; now: number; onDone: (message: string) => void }) {
  const { c, now } = props;
  const last = c.lastPoll;
  const leftOut = leftOutSummary(c.filtered);
  // A click anywhere on the row but its links and buttons opens the connection's page.
  const open = (event: MouseEvent) => {
    if (!(event.target as Element).closest('a, button, input')) location.hash = connectionPageHref(c.name);
  };
  return h(
    'tr',
    { class: `state-${c.state} opens`, onClick: open },
    h(
      'th',
      { scope: 'row' },
      h('a', { href: emailsHash(c.name), 'aria-label': `Emails of ${c.name}`, title: `The emails ${c.name} picked up` }, c.name),
      h('span', { class: 'sub' }, c.hostType),
    ),
    h('td', {}, h('span', { class: `badge ${c.state}` }, STATE_LABEL[c.state])),
    h('td', { title: clock(last?.at) }, last ? `${ago(last.at, now)} · ${last.ok ? 'ok' : 'failed'}` : '–'),
    h(
      'td',
      {
        class: 'num',
        title: `${c.emailsTotal} email(s), ${c.messagesTotal} pipeline message(s) in all${c.graph ? `; ${c.graph.requestsInWindow} of ${c.graph.requestBudget} Graph requests in the last ${c.graph.windowSeconds / 60} min` : ''}`,
      },
      last ? String(last.emails) : '–',
      h('span', { class: 'sub' }, `${c.emailsTotal} in total`),
      leftOut ? h('span', { class: 'sub left-out', title: "Emails the connection's filter did not take, by the condition that decided" }, leftOut) : null,
      c.graph
        ? h(
            'span',
            { class: 'sub' },
            `${c.graph.backlog ?? '?'} waiting · ${c.graph.emailsPerMinute}/min · ${c.graph.requestsInWindow}/${c.graph.requestBudget} req`,
          )
        : null,
    ),
    h('td', { class: 'num' }, last ? duration(last.durationMs) : '–'),
    h(
      'td',
      { title: c.polling ? `since ${clock(c.polling.since)}, by ${workerWords(c.polling.holder)}` : clock(c.nextPollAt) },
      c.polling ? 'polling now' : c.paused ? `paused by ${c.paused.by}` : c.nextPollAt ? ago(c.nextPollAt, now) : '–',
    ),
    h(
      'td',
      { title: c.lease ? `The lease of ${c.lease.holder} runs until ${clock(c.lease.until)}; it renews while the worker runs` : '' },
      c.lease ? h('div', { class: 'holder' }, workerWords(c.lease.holder), h('span', { class: 'sub' }, `lease ends ${ago(c.lease.until, now)}`)) : '–',
    ),
    h(
      'td',
      { title: c.throttle ? clock(c.throttle.until) : '' },
      c.throttle ? h('span', {}, `until ${clock(c.throttle.until)}`, h('span', { class: 'sub' }, c.throttle.reason)) : '–',
    ),
    h('td', { class: 'num' }, String(c.outbox)),
    h('td', { class: c.deadLetters ? 'num warn' : 'num' }, String(c.deadLetters)),
    h(
      'td',
      { title: c.delivery.lastError ?? '' },
      h('span', { class: `badge delivery-${c.delivery.state}` }, DELIVERY_LABEL[c.delivery.state]),
      c.delivery.state === 'retrying' ? h('span', { class: 'sub' }, `${c.delivery.retrying} to retry`) : null,
    ),
    h(
      'td',
      { title: c.lastError ?? c.delivery.lastError ?? '' },
      h('div', { class: 'clamp error-text' }, c.lastError ?? (c.delivery.lastError ? `Delivery: ${c.delivery.lastError}` : '')),
    ),
    h(Controls, { c, onDone: props.onDone }),
  );
}

export function StatusBoard() {
  const { data, error, loadedAt, reload } = useRefresh(() => api.get<StatusReport>('/api/status'), REFRESH_MS);
  const [message, setMessage] = useState<string | null>(null);
  const done = (text: string) => {
    setMessage(text);
    void reload();
  };
  const [filter, setFilter] = useState('');
  const [problemsOnly, setProblemsOnly] = useState(false);
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return (data?.connections ?? []).filter(
      (c) =>
        (!needle || c.name.toLowerCase().includes(needle)) && (!problemsOnly || FAILING_STATES.has(c.state) || c.state === 'throttled' || c.deadLetters > 0),
    );
  }, [data, filter, problemsOnly]);
  const now = data ? Date.parse(data.now) : Date.now();

  return h(
    'section',
    { 'aria-labelledby': 'status-title' },
    h(
      'div',
      { class: 'screen-head' },
      h('h1', { id: 'status-title' }, 'Status'),
      h(
        'span',
        { class: 'muted', 'aria-live': 'polite' },
        error ? `Not updated: ${error}` : loadedAt ? `Updated ${new Date(loadedAt).toLocaleTimeString()}` : 'Loading…',
      ),
    ),
    data
      ? h(
          'div',
          { class: 'cards' },
          h('div', { class: 'card stat' }, h('span', {}, 'Connections'), h('strong', {}, String(data.totals.connections))),
          h('div', { class: `card stat ${data.totals.failing ? 'bad' : ''}` }, h('span', {}, 'Failing'), h('strong', {}, String(data.totals.failing))),
          h('div', { class: `card stat ${data.totals.throttled ? 'warn' : ''}` }, h('span', {}, 'Throttled'), h('strong', {}, String(data.totals.throttled))),
          h('div', { class: 'card stat' }, h('span', {}, 'Outbox'), h('strong', {}, String(data.totals.outbox))),
          h(
            'div',
            { class: `card stat ${data.totals.deadLetters ? 'warn' : ''}` },
            h('span', {}, 'Dead letters'),
            h('strong', {}, String(data.totals.deadLetters)),
          ),
        )
      : null,
    message ? h('p', { class: 'flash', role: 'status' }, message) : null,
    data ? h(ActivityPlot, data.activity) : null,
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Filter'),
      h('input', {
        id: 'status-filter',
        type: 'search',
        placeholder: 'connection name',
        value: filter,
        onInput: (e: Event) => setFilter((e.target as HTMLInputElement).value),
      }),
      h(
        'label',
        { class: 'check' },
        h('input', { type: 'checkbox', checked: problemsOnly, onChange: (e: Event) => setProblemsOnly((e.target as HTMLInputElement).checked) }),
        'Only problems',
      ),
      h('span', { class: 'muted' }, `${rows.length} of ${data?.connections.length ?? 0}`),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid-table', 'aria-label': 'Connections status' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [
              'Connection',
              'State',
              'Last poll',
              'Emails',
              'Duration',
              'Next poll',
              'Read by',
              'Throttled',
              'Outbox',
              'Dead',
              'Delivery',
              'Last error',
              'Actions',
            ].map((label) => h('th', { key: label, scope: 'col' }, label)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((c) => h(Row, { key: c.name, c, now, onDone: done })),
        ),
      ),
      data && data.connections.length === 0 ? h('p', { class: 'empty' }, 'No connections yet. Add one under Connections.') : null,
    ),
  );
}
