/**
 * The status board: what every connection is doing, refreshed every few seconds by one timer.
 * One table, rows keyed by name, relative times computed once per refresh: fast at 500 rows.
 */
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { ConnectionStatus, StatusReport } from '../../schemas.ts';
import { ActivityPlot } from './activity-plot.ts';
import { api } from './api.ts';
import { ago, clock, duration } from './format.ts';
import { useRefresh } from './use-refresh.ts';
import { FAILING_STATES } from '../../connection-states.ts';

/** Often enough to feel live, rare enough for 500 connections and several open tabs. */
const REFRESH_MS = 3_000;

const STATE_LABEL: Record<ConnectionStatus['state'], string> = {
  ok: 'OK',
  failing: 'Failing',
  needs_reauth: 'Needs re-authorisation',
  throttled: 'Throttled',
  disabled: 'Disabled',
  invalid: 'Invalid',
  new: 'Not polled yet',
};

function Row(props: { c: ConnectionStatus; now: number }) {
  const { c, now } = props;
  const last = c.lastPoll;
  return h(
    'tr',
    { class: `state-${c.state}` },
    h('th', { scope: 'row' }, c.name, h('span', { class: 'sub' }, c.hostType)),
    h('td', {}, h('span', { class: `badge ${c.state}` }, STATE_LABEL[c.state])),
    h('td', { title: clock(last?.at) }, last ? `${ago(last.at, now)} · ${last.ok ? 'ok' : 'failed'}` : '–'),
    h(
      'td',
      { class: 'num', title: `${c.emailsTotal} email(s), ${c.messagesTotal} pipeline message(s) in all${c.graph ? `; ${c.graph.requestsInWindow} of ${c.graph.requestBudget} Graph requests in the last ${c.graph.windowSeconds / 60} min` : ''}` },
      last ? String(last.emails) : '–',
      h('span', { class: 'sub' }, `${c.emailsTotal} in all`),
      c.graph ? h('span', { class: 'sub' }, `${c.graph.backlog ?? '?'} waiting · ${c.graph.emailsPerMinute}/min · ${c.graph.requestsInWindow}/${c.graph.requestBudget} req`) : null,
    ),
    h('td', { class: 'num' }, last ? duration(last.durationMs) : '–'),
    h('td', { title: clock(c.nextPollAt) }, c.nextPollAt ? ago(c.nextPollAt, now) : '–'),
    h('td', { title: c.lease ? `${c.lease.holder} until ${clock(c.lease.until)}` : '' }, c.lease ? h('div', { class: 'holder' }, c.lease.holder, h('span', { class: 'sub' }, `expires ${ago(c.lease.until, now)}`)) : '–'),
    h('td', { title: c.throttle ? clock(c.throttle.until) : '' }, c.throttle ? h('span', {}, `until ${clock(c.throttle.until)}`, h('span', { class: 'sub' }, c.throttle.reason)) : '–'),
    h('td', { class: 'num' }, String(c.outbox)),
    h('td', { class: c.deadLetters ? 'num warn' : 'num' }, String(c.deadLetters)),
    h('td', { title: c.lastError ?? '' }, h('div', { class: 'clamp error-text' }, c.lastError ?? '')),
  );
}

export function StatusBoard() {
  const { data, error, loadedAt } = useRefresh(() => api.get<StatusReport>('/api/status'), REFRESH_MS);
  const [filter, setFilter] = useState('');
  const [problemsOnly, setProblemsOnly] = useState(false);
  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return (data?.connections ?? []).filter(
      (c) => (!needle || c.name.toLowerCase().includes(needle)) && (!problemsOnly || FAILING_STATES.has(c.state) || c.state === 'throttled' || c.deadLetters > 0),
    );
  }, [data, filter, problemsOnly]);
  const now = data ? Date.parse(data.now) : Date.now();

  return h(
    'section',
    { 'aria-labelledby': 'status-title' },
    h('div', { class: 'screen-head' }, h('h1', { id: 'status-title' }, 'Status'), h('span', { class: 'muted', 'aria-live': 'polite' }, error ? `Not updated: ${error}` : loadedAt ? `Updated ${new Date(loadedAt).toLocaleTimeString()}` : 'Loading…')),
    data
      ? h(
          'div',
          { class: 'cards' },
          h('div', { class: 'card stat' }, h('span', {}, 'Connections'), h('strong', {}, String(data.totals.connections))),
          h('div', { class: `card stat ${data.totals.failing ? 'bad' : ''}` }, h('span', {}, 'Failing'), h('strong', {}, String(data.totals.failing))),
          h('div', { class: `card stat ${data.totals.throttled ? 'warn' : ''}` }, h('span', {}, 'Throttled'), h('strong', {}, String(data.totals.throttled))),
          h('div', { class: 'card stat' }, h('span', {}, 'Outbox'), h('strong', {}, String(data.totals.outbox))),
          h('div', { class: `card stat ${data.totals.deadLetters ? 'warn' : ''}` }, h('span', {}, 'Dead letters'), h('strong', {}, String(data.totals.deadLetters))),
        )
      : null,
    data ? h(ActivityPlot, data.activity) : null,
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Filter'),
      h('input', { id: 'status-filter', type: 'search', placeholder: 'connection name', value: filter, onInput: (e: Event) => setFilter((e.target as HTMLInputElement).value) }),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: problemsOnly, onChange: (e: Event) => setProblemsOnly((e.target as HTMLInputElement).checked) }), 'Only problems'),
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
            ['Connection', 'State', 'Last poll', 'Emails', 'Duration', 'Next poll', 'Lease holder', 'Throttled', 'Outbox', 'Dead', 'Last error'].map((label) => h('th', { key: label, scope: 'col' }, label)),
          ),
        ),
        h('tbody', {}, rows.map((c) => h(Row, { key: c.name, c, now }))),
      ),
      data && data.connections.length === 0 ? h('p', { class: 'empty' }, 'No connections yet. Add one under Connections.') : null,
    ),
  );
}
